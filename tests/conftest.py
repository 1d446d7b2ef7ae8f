"""Shared fixtures for the cmcore tests (no Streamlit, no browser here)."""
import pytest


@pytest.fixture(scope="session")
def shipped_ours():
    """The shipped checkpoints of our recipe and their default-EvalSpec quality table, computed once.

    Each exact W2 is an optimal assignment on 2000 x 2000 points (seconds each), so the
    table is shared by the quality tests and the CLI test instead of being recomputed.
    """
    from cmcore import bench, zoo
    from cmcore.evaluate import quality_table

    recipe = zoo.DEFAULT
    teacher = zoo.load_teacher(recipe.teacher).model
    cm = zoo.load_consistency(recipe.teacher, recipe.consistency).model
    table = quality_table(teacher, cm, recipe.teacher.dataset, with_floor=True)
    return {"recipe": recipe, "teacher": teacher, "cm": cm, "table": table,
            "self_consistency": bench.self_consistency_mean(teacher)}
