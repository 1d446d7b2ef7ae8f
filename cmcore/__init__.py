"""cmcore: the consistency-model engine behind Consistency Explorer (no Streamlit here)."""
from .config import ConsistencyConfig, TeacherConfig  # noqa: F401
