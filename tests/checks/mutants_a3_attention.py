"""Realistic buggy versions of the a3_attention reference, each with the checks that must catch it."""

from tests.checks.grading import Mutant

SDPA_SCORES = "scores = (query @ key.transpose(-2, -1)) / math.sqrt(query.size(-1))  # (..., L, S)"
SOFTMAX = "weights = torch.softmax(scores.masked_fill(dead, 0.0), dim=-1)"
RETURN_DEAD = "return weights.masked_fill(dead, 0.0)"
MASK_FILL = 'scores = scores.masked_fill(~mask, float("-inf"))'
MHA_SDPA = "ctx, weights = scaled_dot_product_attention(q, k, v, attn_mask, is_causal)"

MUTANTS = [
    # --- the softmax and its scale
    Mutant("softmax_wrong_axis", [(SOFTMAX, SOFTMAX.replace("dim=-1", "dim=-2"))],
           {"test_softmax_over_keys", "test_sdpa_values", "test_mha_values", "test_additive_values"},
           "softmax over the queries instead of the keys"),
    Mutant("missing_sqrt_dk", [(SDPA_SCORES, "scores = query @ key.transpose(-2, -1)  # (..., L, S)")],
           {"test_sdpa_values", "test_mha_values", "test_sdpa_gradients"},
           "scores not divided by sqrt(d_k)"),
    Mutant("scale_by_dk", [(SDPA_SCORES, SDPA_SCORES.replace("math.sqrt(query.size(-1))", "query.size(-1)"))],
           {"test_sdpa_values", "test_mha_values"}, "scores divided by d_k instead of sqrt(d_k)"),
    Mutant("manual_softmax_overflow",
           [(SOFTMAX, "e = scores.masked_fill(dead, 0.0).exp()\n    weights = e / e.sum(dim=-1, keepdim=True)")],
           {"test_large_scores"}, "exp without subtracting the row maximum overflows at scores of 1e4"),
    Mutant("dot_scaled_ignored",
           [("        if self.scaled:\n            scores = scores / math.sqrt(queries.size(-1))\n", "")],
           {"test_dot_product_values"}, "DotProductAttention(scaled=True) does not scale"),
    # --- masks
    Mutant("mask_after_softmax",
           [(MASK_FILL, "pass  # masked after the softmax"),
            (RETURN_DEAD, "weights = weights.masked_fill(dead, 0.0)\n"
                          "    if mask is not None and mask.dtype == torch.bool:\n"
                          "        weights = weights * mask\n"
                          "    return weights")],
           {"test_mask_convention", "test_sdpa_masks", "test_mha_masks"},
           "the mask zeroes weights after the softmax (rows no longer sum to 1)"),
    Mutant("mask_with_zero", [(MASK_FILL, MASK_FILL.replace('float("-inf")', "0.0"))],
           {"test_mask_convention", "test_sdpa_masks", "test_fully_masked_rows"},
           "masked scores set to 0 instead of -inf"),
    Mutant("inverted_mask", [(MASK_FILL, MASK_FILL.replace("~mask", "mask"))],
           {"test_mask_convention", "test_sdpa_masks", "test_mha_masks"},
           "True = masked (torch's nn.MultiheadAttention convention)"),
    Mutant("fully_masked_nan", [(SOFTMAX, "weights = torch.softmax(scores, dim=-1)"), (RETURN_DEAD, "return weights")],
           {"test_fully_masked_rows"}, "a fully masked row gives NaN (0/0)"),
    Mutant("fully_masked_uniform", [(MASK_FILL, MASK_FILL.replace('float("-inf")', "-1e9"))],
           {"test_fully_masked_rows"}, "masking with -1e9: a fully masked row gets uniform weights"),
    Mutant("float_mask_ignored", [("scores = scores + attn_mask  # a float mask is added", "pass")],
           {"test_sdpa_masks", "test_mha_masks"}, "a float attn_mask is dropped in scaled_dot_product_attention"),
    Mutant("causal_strict", [(".tril()  # (L, S)", ".tril(-1)  # (L, S)")],
           {"test_causal_mask", "test_sdpa_causal"}, "causal mask j < i (the diagonal is masked)"),
    Mutant("causal_lookahead", [(".tril()  # (L, S)", ".tril(1)  # (L, S)")],
           {"test_causal_mask", "test_sdpa_causal", "test_mha_masks"}, "causal mask j <= i + 1"),
    Mutant("causal_ignored_with_mask",
           [("attn_mask = causal if attn_mask is None else attn_mask & causal",
             "attn_mask = causal if attn_mask is None else attn_mask")],
           {"test_sdpa_causal", "test_mha_masks"}, "is_causal ignored when attn_mask is given"),
    Mutant("mha_3d_mask_not_per_head",
           [("attn_mask = attn_mask.unsqueeze(1)  # (B, 1, L, S): the same for every head", "pass")],
           {"test_mha_masks"}, "a [B,L,S] mask is broadcast against [B,heads,L,S] without unsqueeze(1)"),
    # --- multi-head attention
    Mutant("heads_merged_without_transpose",
           [("ctx = ctx.transpose(1, 2).reshape(B, L, E)", "ctx = ctx.reshape(B, L, E)")],
           {"test_mha_values", "test_mha_gradients"}, "[B,h,L,d] reshaped straight to [B,L,E]"),
    Mutant("qkv_chunk_order",
           [("w_q, w_k, w_v = self.in_proj_weight.chunk(3)", "w_k, w_q, w_v = self.in_proj_weight.chunk(3)"),
            ("b_q, b_k, b_v = self.in_proj_bias.chunk(3)", "b_k, b_q, b_v = self.in_proj_bias.chunk(3)")],
           {"test_mha_values", "test_mha_gradients"}, "query and key projections swapped"),
    Mutant("out_proj_missing", [("return self.out_proj(ctx), weights", "return ctx, weights")],
           {"test_mha_values", "test_mha_gradients"}, "out_proj never applied"),
    Mutant("out_proj_before_merge",
           [("v = F.linear(value, w_v, b_v).view(B, S, nh, hd)",
             "v = self.out_proj(F.linear(value, w_v, b_v)).view(B, S, nh, hd)"),
            ("return self.out_proj(ctx), weights", "return ctx, weights")],
           {"test_mha_values"}, "out_proj applied to the values before attention, not after the merge"),
    Mutant("mha_in_proj_data",
           [("w_q, w_k, w_v = self.in_proj_weight.chunk(3)", "w_q, w_k, w_v = self.in_proj_weight.data.chunk(3)")],
           {"test_mha_gradients"}, "in_proj_weight used through .data: no gradient reaches it"),
    # --- parallelism
    Mutant("sdpa_loop_over_positions",
           [(SDPA_SCORES, "scores = torch.cat([query[..., i:i + 1, :] @ key.transpose(-2, -1) for i in range(L)], "
                          "dim=-2) / math.sqrt(query.size(-1))")],
           {"test_sdpa_parallel", "test_mha_parallel"}, "one query position at a time (correct values)"),
    Mutant("mha_loop_over_heads",
           [(MHA_SDPA,
             "heads = []\n"
             "        for i in range(nh):\n"
             "            m_i = attn_mask\n"
             "            if m_i is not None and m_i.dim() == 4:\n"
             "                m_i = m_i[:, i if m_i.size(1) > 1 else 0]\n"
             "            heads.append(scaled_dot_product_attention(q[:, i], k[:, i], v[:, i], m_i, is_causal))\n"
             "        ctx = torch.stack([h[0] for h in heads], 1)\n"
             "        weights = torch.stack([h[1] for h in heads], 1)")],
           {"test_mha_parallel"}, "one head at a time (correct values)"),
    # --- additive and general attention
    Mutant("additive_no_tanh",
           [("scores = self.w_v(torch.tanh(q + k)).squeeze(-1)", "scores = self.w_v(q + k).squeeze(-1)")],
           {"test_additive_values", "test_additive_gradients"}, "additive score without tanh"),
    Mutant("additive_wq_wk_swapped",
           [("q = self.W_q(queries).unsqueeze(2)", "q = self.W_k(queries).unsqueeze(2)"),
            ("k = self.W_k(keys).unsqueeze(1)", "k = self.W_q(keys).unsqueeze(1)")],
           {"test_additive_values"}, "W_k applied to the queries and W_q to the keys"),
    Mutant("general_w_transposed",
           [("scores = queries @ self.W(keys).transpose(-2, -1)", "scores = self.W(queries) @ keys.transpose(-2, -1)")],
           {"test_general_values"}, "score q^T W^T k instead of q^T W k"),
    # --- positional encoding
    Mutant("pe_sin_cos_swapped",
           [("pe = torch.stack((angle.sin(), angle.cos()), dim=-1)",
             "pe = torch.stack((angle.cos(), angle.sin()), dim=-1)")],
           {"test_positional_encoding"}, "cos at even columns, sin at odd ones"),
    Mutant("pe_exponent_i_over_d",
           [("two_i = torch.arange(0, d_model, 2, dtype=torch.float64, device=device)",
             "two_i = torch.arange(0, d_model // 2, dtype=torch.float64, device=device)")],
           {"test_positional_encoding"}, "exponent i/d instead of 2i/d"),
    Mutant("pe_concatenated",
           [("pe = torch.stack((angle.sin(), angle.cos()), dim=-1)",
             "pe = torch.cat((angle.sin(), angle.cos()), dim=-1)")],
           {"test_positional_encoding"}, "sines then cosines instead of interleaved"),
    # --- configurations: float masks, masks with is_causal, head counts, length one, views ------------
    Mutant("float_mask_detached",
           [("scores = scores + attn_mask  # a float mask is added",
             "scores = scores + attn_mask.detach()  # a float mask is added")],
           {"test_float_masks"}, "a float attn_mask is detached: no gradient reaches it"),
    Mutant("float_mask_sets_dtype",
           [("scores = scores + attn_mask  # a float mask is added",
             "scores = scores.type_as(attn_mask) + attn_mask  # a float mask is added")],
           {"test_float_masks"}, "the scores take the float mask's dtype (a float32 mask on float64 inputs)"),
    Mutant("causal_ignored_with_float_mask",
           [("    if is_causal:\n        causal = causal_mask(L, S, device=query.device)  # (L, S)",
             "    elif is_causal:\n        causal = causal_mask(L, S, device=query.device)  # (L, S)")],
           {"test_masks_with_causal"}, "is_causal is ignored when a float attn_mask is given"),
    Mutant("mha_head_split_squeezed",
           [("q = F.linear(query, w_q, b_q).view(B, L, nh, hd).transpose(1, 2)  # (B, nh, L, hd)",
             "q = F.linear(query, w_q, b_q).view(B, L, nh, hd).transpose(1, 2).squeeze(-1)  # (B, nh, L, hd)")],
           {"test_mha_head_counts"}, "squeeze() on the queries of each head: breaks with head size 1"),
    Mutant("additive_squeeze_all",
           [("scores = self.w_v(torch.tanh(q + k)).squeeze(-1)  # (B, Q, K)",
             "scores = self.w_v(torch.tanh(q + k)).squeeze()  # (B, Q, K)")],
           {"test_length_one"}, "squeeze() without a dim drops B, Q or K when one of them is 1"),
    Mutant("mha_flattens_query_with_view",
           [("q = F.linear(query, w_q, b_q).view(B, L, nh, hd).transpose(1, 2)  # (B, nh, L, hd)",
             "q = F.linear(query.view(B * L, E), w_q, b_q).view(B, L, nh, hd).transpose(1, 2)  # (B, nh, L, hd)")],
           {"test_noncontiguous_inputs"}, "the query is flattened with .view: fails for a non-contiguous query"),
    Mutant("causal_mask_cached_512",
           [("return torch.ones(L, S, dtype=torch.bool, device=device).tril()  # (L, S)",
             "return torch.ones(512, 512, dtype=torch.bool, device=device).tril()[:L, :S]  # (L, S)")],
           {"test_long_sequences"}, "causal_mask sliced from a 512 x 512 table: wrong beyond 512 positions"),
    Mutant("dot_scores_detached",
           [("scores = queries @ keys.transpose(-2, -1)  # (B, Q, K)",
             "scores = (queries @ keys.transpose(-2, -1)).detach()  # (B, Q, K)")],
           {"test_dot_product_gradients"}, "DotProductAttention detaches its scores: no gradient to queries and keys"),
]

# Mutants the public checks (no reference) catch too, graded with hidden=False: {mutant: public checks that fail}.
PUBLIC_CAUGHT = {
    "softmax_wrong_axis": {"test_public_weights_sum_to_one", "test_public_sdpa_matches_torch"},
    "missing_sqrt_dk": {"test_public_sdpa_matches_torch", "test_public_mha_matches_torch"},
    "inverted_mask": {"test_public_sdpa_matches_torch", "test_public_mha_matches_torch"},
    "qkv_chunk_order": {"test_public_mha_matches_torch"},
    "additive_no_tanh": {"test_public_additive_expected"},
    "pe_sin_cos_swapped": {"test_public_positional_encoding_expected"},
    "sdpa_loop_over_positions": {"test_public_parallelism"},
    "fully_masked_nan": {"test_public_fully_masked_row"},
}

# (mutant, check, words): the check's message for that mutant names the bug with these words.
MESSAGES = [
    ("softmax_wrong_axis", "test_softmax_over_keys", ["over the queries instead of the keys", "softmax dimension"]),
    ("softmax_wrong_axis", "test_sdpa_values", ["softmax dimension"]),
    ("missing_sqrt_dk", "test_sdpa_values", ["not divided by sqrt(d_k)"]),
    ("scale_by_dk", "test_sdpa_values", ["divided by d_k instead of sqrt(d_k)"]),
    ("inverted_mask", "test_mask_convention", ["True = may attend"]),
    ("mask_after_softmax", "test_mask_convention", ["after the softmax"]),
    ("mask_with_zero", "test_mask_convention", ["-inf"]),
    ("fully_masked_nan", "test_fully_masked_rows", ["NaN"]),
    ("fully_masked_uniform", "test_fully_masked_rows", ["uniform"]),
    ("causal_strict", "test_causal_mask", ["off by one"]),
    ("heads_merged_without_transpose", "test_mha_values", ["without transposing back"]),
    ("qkv_chunk_order", "test_mha_values", ["swapped"]),
    ("out_proj_missing", "test_mha_values", ["out_proj is not applied"]),
    ("out_proj_before_merge", "test_mha_values", ["out_proj is applied before the heads are merged"]),
    ("sdpa_loop_over_positions", "test_sdpa_parallel",
     ["the number of tensor operations grows with the sequence length: do not loop over positions"]),
    ("mha_loop_over_heads", "test_mha_parallel", ["grows with the number of heads", "do not loop over heads"]),
    ("mha_in_proj_data", "test_mha_gradients", ["no gradient reached"]),
    ("additive_no_tanh", "test_additive_values", ["no tanh"]),
    ("general_w_transposed", "test_general_values", ["W is transposed"]),
    ("pe_sin_cos_swapped", "test_positional_encoding", ["sin and cos are swapped"]),
    ("pe_exponent_i_over_d", "test_positional_encoding", ["exponent"]),
    ("manual_softmax_overflow", "test_large_scores", ["NaN or inf", "row maximum"]),
    ("float_mask_detached", "test_float_masks", ["no gradient reached the float mask"]),
    ("causal_ignored_with_float_mask", "test_masks_with_causal", ["both apply"]),
    ("mha_flattens_query_with_view", "test_noncontiguous_inputs", ["reshape"]),
]
