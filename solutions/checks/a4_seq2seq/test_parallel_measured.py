"""Hidden check of a4_seq2seq: the attention decoder attends over all source positions at once, measured
from outside the submission's process (its CPU time, from the kernel's accounting).

Each decoding step must score and weigh every source position in one batched operation. With a long
source and tiny sizes, a loop over source positions costs orders of magnitude more than one batched
step, whatever the child reports (docs/writing-checks.md, "What a structural check proves").
"""

import torch

from grader.checks import check
from grader.checks.parallel import measured_growth

F32 = torch.float32


@check(points=0.5, description="AttentionDecoder's time does not grow like a loop over source positions "
                               "(measured from outside)", kind="parallelism", targets=("AttentionDecoder",),
       promises=("attn-decoder.parallel", "parallel.no-loop"),
       timeout=40)
def test_attention_decoder_parallel_measured(sub, ref, draw):
    V, E, H, B, T = 5, 2, 2, 2, 2
    r = ref.AttentionDecoder(V, E, H).to(F32)
    state = draw.perturb_state(r)
    state["embedding.weight"][0] = 0
    r.load_state_dict(state)
    m = sub.build("AttentionDecoder", state, V, E, H, dtype=F32)

    def call(S):
        tgt = draw.randint(1, V, (B, T))
        enc = draw.randn(B, S, H, dtype=F32)
        return (tgt, None, enc, torch.ones(B, S, dtype=torch.bool)), {}

    measured_growth(sub, m, {"S=2": call(2), "S=2048": call(2048)}, r, what="AttentionDecoder",
                    why="it loops over source positions (score every position of enc_outputs at once with "
                        "the attention module, for the whole batch)")
