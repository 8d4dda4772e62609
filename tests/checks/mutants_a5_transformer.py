"""Realistic buggy versions of the a5_transformer reference, each with the checks that must catch it."""

from tests.checks.grading import Mutant

ENC_SA = "x = self.norm1(x + self.self_attn(x, x, x, attn_mask=src_mask)[0])  # (B, S, E)"
ENC_FF = "x = self.norm2(x + self.linear2(F.relu(self.linear1(x))))  # (B, S, E)"
DEC_SA = "x = self.norm1(x + self.self_attn(x, x, x, attn_mask=tgt_mask)[0])  # (B, T, E)"
DEC_CA = "x = self.norm2(x + self.multihead_attn(x, memory, memory, attn_mask=memory_mask)[0])"
DEC_FF = "x = self.norm3(x + self.linear2(F.relu(self.linear1(x))))  # (B, T, E)"
TGT_MASK = "tgt_mask = causal_mask(T, device=tgt_in.device) & (tgt_in != 0).unsqueeze(1)  # (B, T, T)"
MHA_SDPA = "ctx, weights = scaled_dot_product_attention(q, k, v, attn_mask, is_causal)"

MUTANTS = [
    # --- the layers
    Mutant("encoder_pre_norm",
           [(ENC_SA, "h = self.norm1(x)\n        x = x + self.self_attn(h, h, h, attn_mask=src_mask)[0]"),
            (ENC_FF, "x = x + self.linear2(F.relu(self.linear1(self.norm2(x))))")],
           {"test_encoder_layer_values", "test_transformer_values"}, "pre-norm instead of post-norm"),
    Mutant("encoder_no_ffn_residual", [(ENC_FF, "x = self.norm2(self.linear2(F.relu(self.linear1(x))))")],
           {"test_encoder_layer_values", "test_transformer_values"}, "no residual around the feed-forward"),
    Mutant("decoder_no_relu", [(DEC_FF, "x = self.norm3(x + self.linear2(self.linear1(x)))")],
           {"test_decoder_layer_values", "test_transformer_values"}, "the decoder's FFN has no ReLU"),
    Mutant("decoder_norm2_norm3_swapped",
           [(DEC_CA, DEC_CA.replace("self.norm2(", "self.norm3(")),
            (DEC_FF, DEC_FF.replace("self.norm3(", "self.norm2("))],
           {"test_decoder_layer_values", "test_transformer_values"}, "norm2 and norm3 swapped"),
    Mutant("decoder_pre_norm",
           [(DEC_SA, "h = self.norm1(x)\n        x = x + self.self_attn(h, h, h, attn_mask=tgt_mask)[0]"),
            (DEC_CA, "x = x + self.multihead_attn(self.norm2(x), memory, memory, attn_mask=memory_mask)[0]"),
            (DEC_FF, "x = x + self.linear2(F.relu(self.linear1(self.norm3(x))))")],
           {"test_decoder_layer_values", "test_transformer_values"}, "pre-norm decoder layer"),
    Mutant("memory_mask_ignored", [(DEC_CA, DEC_CA.replace("attn_mask=memory_mask", "attn_mask=None"))],
           {"test_decoder_layer_values", "test_padding_and_batch_independence", "test_transformer_values"},
           "the decoder layer drops memory_mask"),
    Mutant("decoder_layer_tgt_mask_ignored", [(DEC_SA, DEC_SA.replace("attn_mask=tgt_mask", "attn_mask=None"))],
           {"test_decoder_layer_values", "test_decoder_causality"}, "the decoder layer drops tgt_mask"),
    # --- the model
    Mutant("no_embedding_scale",
           [("x = embedding(tokens) * math.sqrt(self.d_model)  # (B, L, E)", "x = embedding(tokens)  # (B, L, E)")],
           {"test_transformer_values", "test_transformer_gradients"}, "embeddings not scaled by sqrt(d_model)"),
    Mutant("no_positional_encoding", [("return x + pe  # (B, L, E) + (L, E)", "return x")],
           {"test_transformer_values"}, "no positional encoding"),
    Mutant("decoder_not_causal", [(TGT_MASK, "tgt_mask = (tgt_in != 0).unsqueeze(1)  # (B, 1, T)")],
           {"test_decoder_causality", "test_transformer_values"}, "decoder self-attention without the causal mask"),
    Mutant("target_padding_not_masked", [(TGT_MASK, "tgt_mask = causal_mask(T, device=tgt_in.device)  # (T, T)")],
           {"test_transformer_values"}, "decoder self-attention attends target pads"),
    Mutant("cross_attention_ignores_source_padding",
           [("x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=src_mask)",
             "x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=None)")],
           {"test_padding_and_batch_independence", "test_transformer_values", "test_greedy_ignores_source_padding"},
           "memory_mask not passed"),
    Mutant("encoder_ignores_source_padding", [("x = layer(x, src_mask=src_mask)", "x = layer(x)")],
           {"test_padding_and_batch_independence", "test_transformer_values", "test_greedy_ignores_source_padding"},
           "src_mask not passed to the encoder"),
    Mutant("embedding_without_padding_idx",
           [("self.tgt_embed = nn.Embedding(tgt_vocab, d_model, padding_idx=0)",
             "self.tgt_embed = nn.Embedding(tgt_vocab, d_model)")],
           {"test_transformer_gradients"}, "the pad row of the target embedding gets gradients"),
    Mutant("memory_detached",
           [("return self.decode(tgt_in, memory, src_mask)", "return self.decode(tgt_in, memory.detach(), src_mask)")],
           {"test_transformer_gradients"}, "no gradient reaches the encoder"),
    # --- greedy decoding
    Mutant("greedy_no_pad_after_eos",
           [("nxt = logits.argmax(dim=-1).masked_fill(finished, 0)  # (B,): pad once finished",
             "nxt = logits.argmax(dim=-1)  # (B,)")],
           {"test_greedy_decode"}, "finished rows keep generating"),
    Mutant("greedy_includes_bos", [("return ys[:, 1:]  # (B, <= max_len): without BOS", "return ys")],
           {"test_greedy_decode"}, "BOS kept in the output"),
    Mutant("greedy_no_early_stop",
           [("                if bool(finished.all()):\n                    break\n", "")],
           {"test_greedy_decode"}, "always decodes max_len steps"),
    Mutant("greedy_first_position_logits",
           [("logits = self.decode(ys, memory, src_mask)[:, -1]", "logits = self.decode(ys, memory, src_mask)[:, 0]")],
           {"test_greedy_decode"}, "the next token is read from the first position's logits"),
    # --- parallelism
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
           {"test_layers_parallel"}, "one head at a time (correct values)"),
    Mutant("encoder_ffn_loop_over_positions",
           [(ENC_FF, "x = self.norm2(x + torch.stack([self.linear2(F.relu(self.linear1(x[:, t]))) "
                     "for t in range(x.size(1))], dim=1))")],
           {"test_layers_parallel"}, "the feed-forward applied one position at a time (correct values)"),
    # --- configurations: long sequences, parallel model, float masks, length one, views ---------------
    Mutant("pe_stops_at_128",
           [("pe = sinusoidal_positional_encoding(tokens.size(1), self.d_model, x.dtype, x.device)",
             "pe = sinusoidal_positional_encoding(128, self.d_model, x.dtype, x.device)[\n"
             "            torch.arange(tokens.size(1), device=x.device).clamp(max=127)]")],
           {"test_long_sequences"}, "positional encoding from a 128-row table: positions >= 128 reuse the last row"),
    Mutant("pe_table_of_512",
           [("pe = sinusoidal_positional_encoding(tokens.size(1), self.d_model, x.dtype, x.device)",
             "pe = sinusoidal_positional_encoding(512, self.d_model, x.dtype, x.device)[: tokens.size(1)]")],
           {"test_long_sequences"}, "positional encoding sliced from a 512-row table: fails beyond 512 positions"),
    Mutant("pe_loop_over_positions",
           [("pe = sinusoidal_positional_encoding(tokens.size(1), self.d_model, x.dtype, x.device)",
             "pe = torch.stack([sinusoidal_positional_encoding(p + 1, self.d_model, x.dtype, x.device)[p]\n"
             "                          for p in range(tokens.size(1))])")],
           {"test_transformer_parallel"}, "the positional encoding is built one position at a time (right values)"),
    Mutant("float_mask_dead_row_nan",
           [("    dead = torch.isneginf(scores).all(dim=-1, keepdim=True)  # (..., L, 1)",
             "    dead = ((~mask).all(dim=-1, keepdim=True) if mask is not None and mask.dtype == torch.bool\n"
             "            else torch.zeros_like(scores[..., :1], dtype=torch.bool))  # (..., L, 1)")],
           {"test_layer_float_masks"},
           "fully masked rows are detected from boolean masks only: a -inf float row gives NaN"),
    Mutant("greedy_squeezed",
           [("return ys[:, 1:]  # (B, <= max_len): without BOS",
             "return ys[:, 1:].squeeze(0)  # (B, <= max_len): without BOS")],
           {"test_length_one"}, "squeeze(0) drops the batch dimension of a batch of one"),
    Mutant("mha_flattens_query_with_view",
           [("q = F.linear(query, w_q, b_q).view(B, L, nh, hd).transpose(1, 2)  # (B, nh, L, hd)",
             "q = F.linear(query.view(B * L, E), w_q, b_q).view(B, L, nh, hd).transpose(1, 2)  # (B, nh, L, hd)")],
           {"test_noncontiguous_inputs"}, "the query is flattened with .view: fails for a non-contiguous input"),
]

# Mutants the public checks (no reference) catch too, graded with hidden=False: {mutant: public checks that fail}.
PUBLIC_CAUGHT = {
    "encoder_pre_norm": {"test_public_encoder_layer_matches_torch", "test_public_transformer_expected"},
    "decoder_norm2_norm3_swapped": {"test_public_decoder_layer_matches_torch"},
    "decoder_not_causal": {"test_public_causality", "test_public_transformer_expected"},
    "no_embedding_scale": {"test_public_transformer_expected"},
    "greedy_includes_bos": {"test_public_greedy_expected"},
}

# (mutant, check, words): the check's message for that mutant names the bug with these words.
MESSAGES = [
    ("encoder_pre_norm", "test_encoder_layer_values", ["pre-norm", "post-norm"]),
    ("encoder_no_ffn_residual", "test_encoder_layer_values", ["no residual connection"]),
    ("decoder_no_relu", "test_decoder_layer_values", ["no ReLU"]),
    ("decoder_norm2_norm3_swapped", "test_decoder_layer_values", ["norm2 and norm3 are swapped"]),
    ("memory_mask_ignored", "test_decoder_layer_values", ["memory_mask is not passed"]),
    ("no_embedding_scale", "test_transformer_values", ["sqrt(d_model)"]),
    ("no_positional_encoding", "test_transformer_values", ["no positional encoding"]),
    ("decoder_not_causal", "test_decoder_causality", ["causal mask"]),
    ("decoder_not_causal", "test_transformer_values", ["not causal"]),
    ("target_padding_not_masked", "test_transformer_values", ["target padding"]),
    ("cross_attention_ignores_source_padding", "test_padding_and_batch_independence", ["source padding"]),
    ("cross_attention_ignores_source_padding", "test_transformer_values", ["cross-attention attends source padding"]),
    ("encoder_ignores_source_padding", "test_transformer_values", ["encoder's self-attention attends source padding"]),
    ("embedding_without_padding_idx", "test_transformer_gradients", ["padding_idx=0"]),
    ("memory_detached", "test_transformer_gradients", ["no gradient reached"]),
    ("greedy_includes_bos", "test_greedy_decode", ["BOS"]),
    ("greedy_no_pad_after_eos", "test_greedy_decode", ["filled with 0"]),
    ("greedy_no_early_stop", "test_greedy_decode", ["stop as soon as every row has"]),
    ("mha_loop_over_heads", "test_layers_parallel", ["grows with the number of heads: do not loop over heads"]),
    ("encoder_ffn_loop_over_positions", "test_layers_parallel",
     ["the number of tensor operations grows with the sequence length: do not loop over positions"]),
    ("pe_stops_at_128", "test_long_sequences", ["positional encoding", "128"]),
    ("pe_loop_over_positions", "test_transformer_parallel", ["positional encoding"]),
    ("float_mask_dead_row_nan", "test_layer_float_masks", ["NaN", "-inf"]),
    ("greedy_squeezed", "test_length_one", ["expected shape"]),
    ("mha_flattens_query_with_view", "test_noncontiguous_inputs", ["reshape"]),
]
