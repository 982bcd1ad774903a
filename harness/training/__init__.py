"""Compact, verified training stages of the VibeThinker recipe: SFT -> Pass@K probe -> linear merge -> MGPO.

Pure tensor-in/tensor-out functions (advantages, mgpo, losses, logprobs) carry the maths and are
unit-tested against the hand values of docs/training.md; the loops (sft, probe, merge, mgpo_loop,
recipe) are thin layers on top. Why our own code rather than TRL: the stages must be small enough
to read and check line by line, and TRL's defaults and private APIs have changed under users
(loss_type, scale_rewards, vLLM sync); TRL stays the cross-check in benchmarks/bench_training.py.
"""
