"""Every sentence that narrates a finding: pure functions of the numbers it states, one module per subject.

``english`` (lists, plurals, "N× smaller"), ``compare`` (how any comparison is said: ``says``, ``noise``; and
Recipes compared), ``lesson`` (pages 2-4's stories), ``claims`` (the lesson's claims, the evidence each rests on,
and what we changed), ``loss`` (a loss curve), ``samplers`` (page 4's predictions and experiments), ``lab`` (the
lab pages' measurements), ``lab_studies`` (the stored lab studies: LAB_OT.md and the pages), ``study`` (the
one-change study: STUDY.md and *The lesson, checked*), ``bench`` (BENCHMARKS.md) and ``reports`` (the Markdown
pages ``python -m viz.reports`` writes from the stored studies).  The engine (``cmcore``) computes the findings
(Comparisons, Claims with the Scores they rest on) and writes none of these sentences (tests/test_structure.py
checks); a page and a Markdown file that state the same finding call the same function.
Comparisons go through ``cmcore.stats.compare``, the one rule, so a difference inside the noise is called
indistinguishable, never narrated as a finding.
"""
