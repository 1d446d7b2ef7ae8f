"""Offline studies behind the lab pages: objectives built on ``train.fit`` and their stored results.

Nothing here runs at page start-up: ``python -m cmcore.lab_cli`` trains and measures once and
writes a small JSON file beside the shipped checkpoints (``zoo.checkpoint_dir()``: the folder the image
copies); the pages read it (``ParamStudy.of``, ``OTStudy.of``), both through the one loader of
``stored``.  One concern a module: ``param`` (the parameterisation study), ``ot`` (straight paths: the
minibatch-OT teacher, its checkpoints and study) and ``stored`` (loading, checking and writing a stored
study).  The engine writes no sentence about them: their Markdown page for people (bench/LAB_OT*.md) is
written by ``python -m viz.reports lab-ot`` from the stored JSON.
"""
from .stored import (dataset_suffix, dataset_flag, load_stored, of_dataset, save_json)
from .param import (PARAM_STARTS, PARAM_STEPS, PARAM_SEEDS, PARAM_SIGMA_DATA, PARAM_EVAL, CURVE_EVERY, CURVE_SPEC,
                    LOSS_POINTS, param_study_path, param_command, ParamDistillationObjective, train_param,
                    loss_curve, run_spec, param_variants, run_param_study, ParamRun, ParamStudy)
from .ot import (OT_TEACHER, OT_TEACHER_BLOCKS, OT_CONSISTENCY, OT_TEACHER_STEPS, OT_CM_STEPS, OT_SPEC,
                 PAIRING_BATCHES, PAIRING_REPEATS, ot_study_path, ot_command, ot_teacher_config,
                 train_ot_teacher, ot_teacher_path, ot_consistency_path, save_ot_teacher, save_ot_consistency,
                 load_ot_teacher, load_ot_consistency, pairing_costs, pairing_gain, COUPLING_LABELS, run_ot_study,
                 CouplingResult, OTStudy)

__all__ = ['COUPLING_LABELS', 'CURVE_EVERY', 'CURVE_SPEC', 'CouplingResult', 'LOSS_POINTS', 'OTStudy', 'OT_CM_STEPS',
           'OT_CONSISTENCY', 'OT_SPEC', 'OT_TEACHER', 'OT_TEACHER_BLOCKS', 'OT_TEACHER_STEPS', 'PAIRING_BATCHES',
           'PAIRING_REPEATS', 'PARAM_EVAL', 'PARAM_SEEDS', 'PARAM_SIGMA_DATA', 'PARAM_STARTS', 'PARAM_STEPS',
           'ParamDistillationObjective', 'ParamRun', 'ParamStudy', 'dataset_flag', 'dataset_suffix',
           'load_ot_consistency', 'load_ot_teacher', 'load_stored', 'loss_curve', 'of_dataset', 'ot_command',
           'ot_consistency_path', 'ot_study_path', 'ot_teacher_config',
           'ot_teacher_path', 'pairing_costs', 'pairing_gain', 'param_command', 'param_study_path',
           'param_variants', 'run_ot_study', 'run_param_study', 'run_spec', 'save_json', 'save_ot_consistency',
           'save_ot_teacher', 'train_ot_teacher', 'train_param']
