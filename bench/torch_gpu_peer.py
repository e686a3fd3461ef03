#!/usr/bin/env python3
"""PyTorch side of `npm run bench:gpu` for single ops on the GPU: a long-lived process driven over
stdin/stdout (JSON lines), so the benchmark interleaves our repetitions with PyTorch's on identical
inputs, as bench/torch_peer.py does on the CPU.

Commands:
  {"cmd": "info"}   answers {"torch", "device", "cudnn", "flash"}: the versions and the GPU
  {"cmd": "setup", "op": "attention"|"conv2d", "case": {...}, "inputs": [{"path", "shape"}], "dtype": "f32"|"bf16", "out": path}
      loads the inputs (raw float32 written by bench/gpu.ts) onto cuda in dtype, runs the forward once, writes its
      output as raw float32 to `out`, answers {"ok": true}
  {"cmd": "time", "mode": "fwd"|"fwdbwd"}   runs once between two torch.cuda.synchronize(), answers {"ms": wall}
Attention is F.scaled_dot_product_attention (its fused kernels: flash for bf16, memory-efficient for float32);
convolution is F.conv2d through cuDNN. TF32 is off (torch.backends.*.allow_tf32 = False): float32 here is
float32 arithmetic, as ours.
Run with a CUDA build of PyTorch 2 (`python3` on the GPU machine; TREEREWARD_GPU_PEER_PYTHON overrides).
"""
import json, sys, time

import numpy as np
import torch
import torch.nn.functional as F

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
state = {}


def load(spec, dtype):
    a = np.fromfile(spec["path"], dtype=np.float32).reshape(spec["shape"])
    return torch.from_numpy(a).to("cuda").to(dtype).requires_grad_(True)


def build(op, c, xs):
    if op == "attention":
        q, k, v = xs
        return lambda: F.scaled_dot_product_attention(q, k, v)
    if op == "conv2d":
        x, w, b = xs
        return lambda: F.conv2d(x, w, b, stride=c["stride"], padding=c["pad"])
    raise ValueError("unknown op " + op)


def info():
    flash = bool(getattr(torch.backends.cuda, "flash_sdp_enabled", lambda: False)())
    return {"torch": torch.__version__, "device": torch.cuda.get_device_name(0), "cudnn": torch.backends.cudnn.version(), "flash": flash}


def main():
    if not torch.cuda.is_available():
        sys.stdout.write(json.dumps({"error": "torch sees no CUDA GPU"}) + "\n")
        sys.stdout.flush()
        return 1
    for line in sys.stdin:
        msg = json.loads(line)
        try:
            if msg["cmd"] == "info":
                reply = info()
            elif msg["cmd"] == "setup":
                state.clear()
                torch.cuda.empty_cache()
                dtype = torch.bfloat16 if msg["dtype"] == "bf16" else torch.float32
                xs = [load(s, dtype) for s in msg["inputs"]]
                fwd = build(msg["op"], msg["case"], xs)
                with torch.no_grad():
                    out = fwd()
                out.float().cpu().numpy().astype(np.float32).tofile(msg["out"])
                state.update(xs=xs, fwd=fwd, ones=torch.ones_like(out))
                reply = {"ok": True, "torch": torch.__version__}
            elif msg["cmd"] == "time":
                xs, fwd = state["xs"], state["fwd"]
                for x in xs:
                    x.grad = None
                torch.cuda.synchronize()
                t = time.perf_counter()
                if msg["mode"] == "fwd":
                    with torch.no_grad():
                        fwd()
                else:
                    fwd().backward(state["ones"])
                torch.cuda.synchronize()  # a GPU runs asynchronously
                reply = {"ms": (time.perf_counter() - t) * 1e3}
            else:
                reply = {"error": "unknown cmd"}
        except Exception as e:  # reported to the benchmark, which marks the case
            reply = {"error": str(e).splitlines()[0] if str(e) else type(e).__name__}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
