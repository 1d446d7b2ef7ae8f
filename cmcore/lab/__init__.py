"""The lab pages' engine, one module a page: ``matching`` (the matching behind W2), ``frames`` (f_theta at
every t), ``anatomy`` (one distillation step) and ``maps`` (where the model is consistent).

torch and numpy only.  Every sampler draws through ``cmcore.evaluate``'s seeded functions, so a lab number
at the protocol's size is the protocol's number, and at a smaller size it is one term of the same protocol.
"""
from .matching import (W2_SAMPLERS, W2_SAMPLER_NOUNS, TEACHER_SAMPLER_STEPS, LONG_LINE_QUANTILE, TOP_SHARE,
                       sampler_points, w2_matching, LineStats, line_stats)
from .frames import (FRAME_COUNT, FRAME_T_MIN, frame_times, ode_endpoints_from, NoisedFrames, noised_frames,
                     consistency_jumps, teacher_jumps, mean_endpoint_error)
from .anatomy import (LAB_RUN_STEPS, LAB_RUN_BATCH, LAB_SNAPSHOT_EVERY, OnlineAndTarget, SnapshotObjective,
                      Snapshot, SnapshotRun, lab_run_config, snapshot_steps, train_with_snapshots, StepAnatomy,
                      level_pair, pair_inputs, step_anatomy, level_gaps)
from .maps import (MAP_DOMAIN, MAP_GRID, MAP_PATH_POINTS, CONSISTENT_WITHIN, grid_points, OdeMap, ode_map,
                   map_jumps, visited_cells)

__all__ = ['W2_SAMPLERS', 'W2_SAMPLER_NOUNS', 'CONSISTENT_WITHIN', 'FRAME_COUNT', 'FRAME_T_MIN', 'LAB_RUN_BATCH',
           'LAB_RUN_STEPS',           'LAB_SNAPSHOT_EVERY', 'LONG_LINE_QUANTILE', 'LineStats', 'MAP_DOMAIN', 'MAP_GRID', 'MAP_PATH_POINTS',
           'NoisedFrames', 'OdeMap', 'OnlineAndTarget', 'Snapshot', 'SnapshotObjective', 'SnapshotRun',
           'StepAnatomy', 'TEACHER_SAMPLER_STEPS', 'TOP_SHARE', 'consistency_jumps', 'frame_times', 'grid_points',
           'lab_run_config', 'level_gaps', 'level_pair', 'line_stats', 'map_jumps', 'mean_endpoint_error',
           'noised_frames', 'ode_endpoints_from', 'ode_map', 'pair_inputs', 'sampler_points', 'snapshot_steps',
           'step_anatomy', 'teacher_jumps', 'train_with_snapshots', 'visited_cells', 'w2_matching']
