"""Hidden check of a5_transformer: a layer relates every position to every other at once, measured from
outside the submission's process (its CPU time, from the kernel's accounting).

With many positions and tiny sizes, a loop over positions or batch items costs orders of magnitude more
than batched operations, whatever the child reports (docs/writing-checks.md, "What a structural check
proves").
"""

import torch

from grader.checks import check
from grader.checks.parallel import measured_growth

F32 = torch.float32


@check(points=0.5, description="TransformerEncoderLayer's time does not grow like a loop over positions or "
                               "batch items (measured from outside)", kind="parallelism",
       promises=("parallel.no-loop",), targets=("TransformerEncoderLayer",), timeout=40)
def test_encoder_layer_parallel_measured(sub, ref, draw):
    E, nh, ff = 2, 1, 2
    r = ref.TransformerEncoderLayer(E, nh, ff).to(F32)
    state = draw.perturb_state(r)
    r.load_state_dict(state)
    m = sub.build("TransformerEncoderLayer", state, E, nh, ff, dtype=F32)

    def call(B, S):
        return (draw.randn(B, S, E, dtype=F32),), {}

    # one sequence: the quadratic cost of attention over 256 positions stays small next to a loop's
    measured_growth(sub, m, {"S=4": call(1, 4), "S=256": call(1, 256)}, r, what="TransformerEncoderLayer",
                    why="it loops over positions (self-attention relates every position to every other at once)")
    measured_growth(sub, m, {"B=2": call(2, 3), "B=1024": call(1024, 3)}, r, what="TransformerEncoderLayer",
                    why="it loops over batch items")
