#!/usr/bin/env python3
"""Combines one bench run's outputs (aevb_bench's JSON and the PyTorch peers'
JSON lines) into one JSON file and a Markdown table with aevb/PyTorch ratios.
Called by scripts/bench.sh; standard library only.

usage: combine_results.py AEVB_JSON TORCH_TRAIN_JSONL TORCH_IW_JSON [--torch-conv TORCH_CONV_JSONL]
                          --json OUT --markdown OUT
"""
import argparse, json, statistics, sys


def read_jsonl(path):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    rows.append(json.loads(line))
    except FileNotFoundError:
        pass
    return rows


def fmt(v, digits=0):
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}"


def times(v):
    return "n/a" if v is None else f"{v:,.1f}x"


def met(value, target, below=False):
    """yes/no: value >= target (value < target when `below`)."""
    if value is None:
        return "n/a"
    return "yes" if (value < target if below else value >= target) else "no"


def pct(v):
    return "n/a" if v is None else f"{100 * v:,.0f}%"


def ratio(a, b):
    return a / b if a is not None and b else None


def ceiling(aevb_rate, aevb_gflops, torch_rate, large_gflops):
    """The aevb/PyTorch ratio that a run at 100% of the large-SGEMM rate would
    reach: the large rate over the FLOP rate PyTorch's throughput stands for
    (FLOPs per sample or image taken from aevb's own count)."""
    if not (aevb_rate and aevb_gflops and torch_rate and large_gflops):
        return None
    flops_per_item = aevb_gflops / aevb_rate
    return large_gflops / (torch_rate * flops_per_item)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("aevb")
    ap.add_argument("torch_train")
    ap.add_argument("torch_iw")
    ap.add_argument("--torch-conv", help="bench/torch_conv_vae.py's output (JSON lines)")
    ap.add_argument("--json", required=True)
    ap.add_argument("--markdown", required=True)
    a = ap.parse_args()

    with open(a.aevb) as f:
        aevb = json.load(f)
    train_lines = read_jsonl(a.torch_train)
    epochs = [r["samples_per_s"] for r in train_lines if "epoch" in r]
    torch_train = statistics.median(epochs) if epochs else None
    torch_version = next((r.get("framework") for r in train_lines if "framework" in r), None)
    iw_lines = read_jsonl(a.torch_iw)
    torch_iw = iw_lines[-1] if iw_lines else {}
    conv_lines = read_jsonl(a.torch_conv) if a.torch_conv else []
    conv_epochs = [r["samples_per_s"] for r in conv_lines if "epoch" in r]
    torch_conv = statistics.median(conv_epochs) if conv_epochs else None
    torch_conv_summary = next((r for r in conv_lines if "framework" in r), {})

    sg = aevb.get("sgemm") or {}
    peer = aevb.get("train_peer") or {}
    paper = aevb.get("train_paper") or {}
    peer_bf16 = aevb.get("train_peer_bf16") or {}
    peer_bf16_avx512 = aevb.get("train_peer_bf16_avx512") or {}
    iw = aevb.get("iw") or {}
    iw_bf16 = aevb.get("iw_bf16") or {}
    iw_bf16_avx512 = aevb.get("iw_bf16_avx512") or {}
    bf16_on = aevb.get("bf16_products")  # the kernel aevb picks (the bf16 sections' own, unforced)
    if not bf16_on or bf16_on == "none":
        bf16_on = "n/a (neither AMX nor AVX512-BF16)"
    conv = aevb.get("train_conv") or {}
    large = sg.get("large_gflops")
    # PyTorch's conv step rate in GFLOP/s, counted with aevb's FLOPs per sample (the same model)
    torch_conv_gflops = (torch_conv * conv["step_gflop_per_sample"]
                         if torch_conv and conv.get("step_gflop_per_sample") else None)

    results = {
        "machine": {"cpu": aevb.get("cpu"), "cores": aevb.get("cores"), "threads": aevb.get("threads"),
                    "openblas_coretype": aevb.get("openblas_coretype"),
                    "instruction_sets": aevb.get("instruction_sets"), "bf16_products": aevb.get("bf16_products"),
                    "core_peak_gflops": {"fma_avx2": aevb.get("core_peak_fma_avx2_gflops"),
                                         "fma_avx512": aevb.get("core_peak_fma_avx512_gflops"),
                                         "dpbf16": aevb.get("core_peak_dpbf16_gflops")}},
        "pytorch": torch_version,
        "train_peer": {"aevb_samples_per_s": peer.get("samples_per_s"), "torch_samples_per_s": torch_train,
                       "torch_epoch_samples_per_s": epochs,
                       "ratio": ratio(peer.get("samples_per_s"), torch_train), "gflops": peer.get("gflops"),
                       "ratio_ceiling": ceiling(peer.get("samples_per_s"), peer.get("gflops"), torch_train, large),
                       "fraction_of_sgemm": ratio(peer.get("gflops"), large), "peak_rss_mib": peer.get("peak_rss_mib"),
                       "needed_mib": peer.get("needed_mib")},
        "train_peer_bf16": {"aevb_samples_per_s": peer_bf16.get("samples_per_s"),
                            "ratio": ratio(peer_bf16.get("samples_per_s"), torch_train),
                            "gflops": peer_bf16.get("gflops"), "products": peer_bf16.get("products")},
        "train_peer_bf16_avx512": {"aevb_samples_per_s": peer_bf16_avx512.get("samples_per_s"),
                                   "ratio": ratio(peer_bf16_avx512.get("samples_per_s"), torch_train),
                                   "gflops": peer_bf16_avx512.get("gflops")},
        "train_paper": {"aevb_samples_per_s": paper.get("samples_per_s"), "gflops": paper.get("gflops"),
                        "fraction_of_sgemm": ratio(paper.get("gflops"), large),
                        "peak_rss_mib": paper.get("peak_rss_mib"), "needed_mib": paper.get("needed_mib")},
        "iw": {"k": iw.get("k"), "aevb_images": iw.get("images"), "aevb_images_per_s": iw.get("images_per_s"),
               "aevb_gflops": iw.get("gflops"), "torch_images": torch_iw.get("images"),
               "torch_images_per_s": torch_iw.get("images_per_s"),
               "ratio": ratio(iw.get("images_per_s"), torch_iw.get("images_per_s")),
               "ratio_ceiling": ceiling(iw.get("images_per_s"), iw.get("gflops"), torch_iw.get("images_per_s"), large),
               "fraction_of_sgemm": ratio(iw.get("gflops"), large),
               "aevb_mean_log_likelihood": iw.get("mean_log_likelihood"),
               "torch_mean_log_likelihood": torch_iw.get("mean_log_likelihood")},
        "iw_bf16": {"aevb_images_per_s": iw_bf16.get("images_per_s"),
                    "ratio": ratio(iw_bf16.get("images_per_s"), torch_iw.get("images_per_s")),
                    "aevb_mean_log_likelihood": iw_bf16.get("mean_log_likelihood"), "products": iw_bf16.get("products")},
        "iw_bf16_avx512": {"aevb_images_per_s": iw_bf16_avx512.get("images_per_s"),
                           "ratio": ratio(iw_bf16_avx512.get("images_per_s"), torch_iw.get("images_per_s"))},
        "train_conv": {"aevb_samples_per_s": conv.get("samples_per_s"), "torch_samples_per_s": torch_conv,
                       "torch_epoch_samples_per_s": conv_epochs, "torch_images": torch_conv_summary.get("images"),
                       "ratio": ratio(conv.get("samples_per_s"), torch_conv),
                       "step_gflop_per_sample": conv.get("step_gflop_per_sample"), "gflops": conv.get("gflops"),
                       "torch_gflops": torch_conv_gflops,
                       "ratio_ceiling": ceiling(conv.get("samples_per_s"), conv.get("gflops"), torch_conv, large),
                       "fraction_of_sgemm": ratio(conv.get("gflops"), large),
                       "torch_fraction_of_sgemm": ratio(torch_conv_gflops, large),
                       "peak_rss_mib": conv.get("peak_rss_mib"), "needed_mib": conv.get("needed_mib")},
        "sgemm": sg,
        "aevb_raw": aevb,
        "torch_raw": {"train": train_lines, "iw": iw_lines, "conv": conv_lines},
    }
    with open(a.json, "w") as f:
        json.dump(results, f, indent=2)

    t = results
    avx512_run = (peer_bf16_avx512 if peer_bf16_avx512
                  else peer_bf16 if peer_bf16.get("products") == "AVX512-BF16" else {})
    avx512_ratio = ratio(avx512_run.get("samples_per_s"), torch_train)
    # The cores' peak for the instruction each step's products run on (the widest FMA for float32).
    threads = aevb.get("threads") or 1
    fma_peak = aevb.get("core_peak_fma_avx512_gflops") or aevb.get("core_peak_fma_avx2_gflops")
    dpbf16_peak = aevb.get("core_peak_dpbf16_gflops")
    float32_of_peak = ratio(peer.get("gflops"), fma_peak * threads if fma_peak else None)
    avx512_of_peak = ratio(avx512_run.get("gflops"), dpbf16_peak * threads if dpbf16_peak else None)
    rss_ratio = ratio(peer.get("peak_rss_mib"), peer.get("needed_mib"))
    lines = [
        f"Machine: {aevb.get('cpu')}, {aevb.get('cores')} cores, {aevb.get('threads')} threads for both; "
        f"{torch_version or 'PyTorch not run'}. Instruction sets: {aevb.get('instruction_sets')}. Products: "
        f"float32 on OpenBLAS's {aevb.get('openblas_coretype') or 'auto'} kernels (aevb and PyTorch alike), "
        f"bfloat16 on {bf16_on}. One core's measured peak (bench/instruction_peaks.hpp): FMA AVX2 "
        f"{fmt(aevb.get('core_peak_fma_avx2_gflops'))}, FMA AVX-512 {fmt(aevb.get('core_peak_fma_avx512_gflops'))}, "
        f"VDPBF16PS {fmt(aevb.get('core_peak_dpbf16_gflops'))} GFLOP/s.",
        "",
        "| benchmark | aevb | PyTorch | aevb / PyTorch |",
        "|---|---:|---:|---:|",
        f"| training, peer model 784-400-20 ReLU, Adam, batch 128 (samples/s) | {fmt(peer.get('samples_per_s'))} | "
        f"{fmt(torch_train)} | {times(t['train_peer']['ratio'])} |",
        f"| training, peer model, bfloat16 products on {bf16_on} (`--matmul-precision bfloat16`; PyTorch in float32) "
        f"(samples/s) | {fmt(peer_bf16.get('samples_per_s'))} | {fmt(torch_train)} | "
        f"{times(t['train_peer_bf16']['ratio'])} |",
    ] + ([
        f"| the same forced onto AVX512-BF16 (the kernel of CPUs without AMX) (samples/s) | "
        f"{fmt(peer_bf16_avx512.get('samples_per_s'))} | {fmt(torch_train)} | "
        f"{times(t['train_peer_bf16_avx512']['ratio'])} |"] if peer_bf16_avx512 else []) + [
        f"| training, paper model 784-500-20 tanh, Adagrad with the prior's weight decay, M = 100, dynamic binarization (samples/s) | "
        f"{fmt(paper.get('samples_per_s'))} | | |",
        f"| IW log-likelihood, k = {iw.get('k')}, peer model (test images/s) | {fmt(iw.get('images_per_s'), 1)} | "
        f"{fmt(torch_iw.get('images_per_s'), 1)} | {times(t['iw']['ratio'])} |",
        f"| IW log-likelihood, bfloat16 products on {bf16_on} (`aevb eval --matmul-precision bfloat16`; PyTorch in "
        f"float32) (test images/s) | {fmt(iw_bf16.get('images_per_s'), 1)} | {fmt(torch_iw.get('images_per_s'), 1)} | "
        f"{times(t['iw_bf16']['ratio'])} |",
    ] + ([
        f"| the same forced onto AVX512-BF16 (test images/s) | {fmt(iw_bf16_avx512.get('images_per_s'), 1)} | "
        f"{fmt(torch_iw.get('images_per_s'), 1)} | {times(t['iw_bf16_avx512']['ratio'])} |"] if iw_bf16_avx512 else []) + [
        f"| training, conv-mnist preset: conv:32:4:2:1,conv:64:4:2:1,dense:128 and its mirror, ReLU, Adam, M = 100, "
        f"dynamic binarization (samples/s) | {fmt(conv.get('samples_per_s'))} | {fmt(torch_conv)} | "
        f"{times(t['train_conv']['ratio'])} |",
        f"| training step, peer / paper (GFLOP/s) | {fmt(peer.get('gflops'))} / {fmt(paper.get('gflops'))} | | |",
        f"| training step, conv-mnist (GFLOP/s, {fmt((conv.get('step_gflop_per_sample') or 0) * 1e3, 1)} MFLOP "
        f"per sample counted layer by layer for both) | {fmt(conv.get('gflops'), 1)} | {fmt(torch_conv_gflops, 1)} | |",
        f"| IW evaluation (GFLOP/s) | {fmt(iw.get('gflops'))} | | |",
        f"| SGEMM {fmt(sg.get('large_size'))}^3, OpenBLAS, {aevb.get('threads')} threads (GFLOP/s; best of 7, median "
        f"{fmt(sg.get('large_gflops_median'))}) | {fmt(large)} | | |",
        f"| training step / large SGEMM, peer / paper | {fmt(100 * (t['train_peer']['fraction_of_sgemm'] or 0))}% / "
        f"{fmt(100 * (t['train_paper']['fraction_of_sgemm'] or 0))}% | | |",
        f"| training step / large SGEMM, conv-mnist | {pct(t['train_conv']['fraction_of_sgemm'])} | "
        f"{pct(t['train_conv']['torch_fraction_of_sgemm'])} | |",
        f"| IW evaluation / large SGEMM | {fmt(100 * (t['iw']['fraction_of_sgemm'] or 0))}% | | |",
        f"| peak RSS, peer training (MiB; dataset + parameters + state + activations) | "
        f"{fmt(peer.get('peak_rss_mib'), 1)} ({fmt(peer.get('needed_mib'), 1)}) | | |",
        "",
        f"Training: median over {peer.get('repeats')} repeats of {fmt(peer.get('steps'))} steps (aevb) and over "
        f"{len(epochs)} epochs (PyTorch, ../shared/bench/torch_vae.py); IW: aevb on {fmt(iw.get('images'))} test images, "
        f"PyTorch on {fmt(torch_iw.get('images'))} (bench/torch_iw_eval.py), both as images/s; mean log p(x) "
        f"{fmt(iw.get('mean_log_likelihood'), 2)} (aevb) vs {fmt(torch_iw.get('mean_log_likelihood'), 2)} (PyTorch; "
        "independent random initializations, so they differ). Conv training: aevb median over "
        f"{conv.get('repeats')} repeats of {fmt(conv.get('steps'))} steps, PyTorch (bench/torch_conv_vae.py, "
        f"PyTorch 1.13 runs Conv2d through oneDNN, ConvTranspose2d through its slow_conv_transpose2d) median over {len(conv_epochs)} epochs of {fmt(torch_conv_summary.get('images'))} "
        f"images (ratio ceiling {times(t['train_conv']['ratio_ceiling'])}).",
        "",
        "Issue 4's targets, from this run (the ceiling is the ratio a run at 100% of the large-SGEMM rate would "
        "reach, with the same FLOPs):",
        "",
        "| target | measured | met |",
        "|---|---:|:---:|",
        f"| training >= 5x PyTorch (peer model) | {times(t['train_peer']['ratio'])} "
        f"(ceiling {times(t['train_peer']['ratio_ceiling'])}) | {met(t['train_peer']['ratio'], 5)} |",
        f"| the same with bfloat16 products | {times(t['train_peer_bf16']['ratio'])} | "
        f"{met(t['train_peer_bf16']['ratio'], 5)} |",
        f"| training step >= 60% of large SGEMM (peer / paper) | "
        f"{fmt(100 * (t['train_peer']['fraction_of_sgemm'] or 0))}% / "
        f"{fmt(100 * (t['train_paper']['fraction_of_sgemm'] or 0))}% | "
        f"{met(min(t['train_peer']['fraction_of_sgemm'] or 0, t['train_paper']['fraction_of_sgemm'] or 0), 0.6)} |",
        f"| IW evaluation >= 5x PyTorch | {times(t['iw']['ratio'])} (ceiling {times(t['iw']['ratio_ceiling'])}) | "
        f"{met(t['iw']['ratio'], 5)} |",
        f"| the same with bfloat16 products | {times(t['iw_bf16']['ratio'])} | {met(t['iw_bf16']['ratio'], 5)} |",
        f"| peak RSS < 2x what training needs (peer) | {fmt(rss_ratio, 2)}x | {met(rss_ratio, 2, below=True)} |",
        "",
        "Issue 19's targets (set for CPUs with AVX512-BF16 and no AMX, such as AMD Zen 4; where AMX is present "
        "the AVX512-BF16 row is the forced kernel, which such a CPU would run):",
        "",
        "| target | measured | met |",
        "|---|---:|:---:|",
        f"| float32 training >= 2.3x PyTorch (peer model) | {times(t['train_peer']['ratio'])} | "
        f"{met(t['train_peer']['ratio'], 2.3)} |",
        f"| bfloat16 training on AVX512-BF16 >= 4x PyTorch | {times(avx512_ratio)} | {met(avx512_ratio, 4)} |",
        "",
        f"The whole training step against the cores' peak of its instruction ({threads} cores' worth): float32 "
        f"{pct(float32_of_peak)} of the widest FMA's, bfloat16 on AVX512-BF16 {pct(avx512_of_peak)} of VDPBF16PS's.",
    ]
    md = "\n".join(lines) + "\n"
    with open(a.markdown, "w") as f:
        f.write(md)
    sys.stdout.write(md)


if __name__ == "__main__":
    main()
