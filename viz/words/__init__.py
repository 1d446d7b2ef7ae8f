"""Every sentence that narrates a finding: pure functions of the numbers it states, one module per subject.

``english`` (lists, plurals, "N× smaller"), ``lesson`` (pages 2-4's stories), ``claims`` (the lesson's claims and
what we changed), ``loss`` (a loss curve), ``compare`` (Recipes compared), ``samplers`` (page 4's predictions and
experiments), ``lab`` (the lab pages' measurements), ``lab_studies`` (the stored lab studies: LAB_OT.md and the
pages), ``study`` (the one-change study: STUDY.md and *The lesson, checked*) and ``reports`` (the Markdown pages
``python -m viz.reports`` writes from the stored studies).  The engine (``cmcore``) computes the findings and
writes none of these sentences; a page and a Markdown file that state the same finding call the same function.
Comparisons go through ``cmcore.stats.compare``, the one rule, so a difference inside the noise is called
indistinguishable, never narrated as a finding.
"""
