"""The benchmark runs end to end (tiny recipes, so it is quick): the engine stores numbers, and BENCHMARKS.md,
written from them by ``python -m viz.reports bench``, has every section."""
import dataclasses
import json

from cmcore import bench, zoo
from cmcore.evaluate import EvalSpec
from viz.reports import main as reports_main
from viz.words.bench import MEASURE_COMMAND, WRITE_COMMAND


def tiny(recipe: zoo.Recipe) -> zoo.Recipe:
    return dataclasses.replace(recipe, teacher=dataclasses.replace(recipe.teacher, steps=20),
                               consistency=dataclasses.replace(recipe.consistency, steps=10))


def test_bench_report_has_every_section(tmp_path):
    result = bench.run(lesson_recipe=tiny(zoo.RECIPES["lesson"]), ours_recipe=tiny(zoo.RECIPES["ours"]),
                       spec=EvalSpec(n=200, seeds=(0,)), log=lambda *_: None)
    stored, out = tmp_path / "bench.json", tmp_path / "B.md"
    bench.save(result, stored)
    assert bench.load(stored) == json.loads(json.dumps(result))  # numbers only: the file holds all of it
    assert bench.load(tmp_path / "missing.json") is None
    assert reports_main(["bench", "--json", str(stored), "--md", str(out)]) == 0
    text = out.read_text()
    assert f"`{MEASURE_COMMAND}`" in text and f"`{WRITE_COMMAND}`" in text  # the page names how it was made
    for heading in ("## Targets", "## Time", "## W2 at every NFE", "## The lesson's claims", "## Determinism"):
        assert heading in text
    # both recipes measured at every NFE of the lesson's exercise 4
    assert text.count("| lesson | teacher (Euler ODE) |") == 1 and text.count("| ours | consistency model |") == 1
    # one row per claim, each judged for both recipes
    claims_section = text.split("## The lesson's claims")[1].split("##")[0]
    statuses = ("holds", "does not hold", "undecided", "not applicable")
    rows = [line for line in claims_section.splitlines() if line.startswith("| ") and not line.startswith("| claim")
            and not line.startswith("|---")]
    assert len(rows) == 6 and all(sum(s in row for s in statuses) >= 1 for row in rows)
    # tiny configs are not shipped, so the determinism check says so instead of inventing a comparison
    assert "not compared with (no file)" in text


def test_step_flops_count_the_extra_heun_evaluation():
    assert bench.distill_step_flops(512, "heun") - bench.distill_step_flops(512, "euler") == bench.mlp_forward_flops(512)
