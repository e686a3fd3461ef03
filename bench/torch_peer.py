#!/usr/bin/python3
"""PyTorch side of `npm run bench:ops`: a long-lived process driven over stdin/stdout (JSON lines),
so the benchmark can interleave our repetitions with PyTorch's on identical inputs.

Commands:
  {"cmd": "setup", "op": "gemm", "case": {...}, "inputs": [{"path": ..., "shape": [...]}], "dtype": "f32"|"bf16", "out": path}
      loads the inputs (raw float32, written by bench/ops.ts), runs the forward once, writes the
      output as raw float32 to `out`, answers {"ok": true}
  {"cmd": "time", "mode": "fwd"|"fwdbwd", "n": 1}   runs n times back to back, answers the median call's
      {"ms": wall, "cpu_ms": process CPU time} (n 1, the default: one call)
Run with Debian's PyTorch (/usr/bin/python3, apt-get install python3-torch).
"""
import json, math, sys, time

import numpy as np
import torch
import torch.nn.functional as F

state = {}


def load(spec, dtype):
    a = np.fromfile(spec["path"], dtype=np.float32).reshape(spec["shape"])
    return torch.from_numpy(a).to(dtype).requires_grad_(True)


def build(op, c, xs):
    if op == "gemm":
        a, b = xs
        return lambda: a @ b
    if op == "attention":
        q, k, v = xs
        scale = 1.0 / math.sqrt(c["D"])
        if hasattr(F, "scaled_dot_product_attention"):
            return lambda: F.scaled_dot_product_attention(q, k, v)
        return lambda: torch.softmax((q @ k.transpose(-1, -2)) * scale, dim=-1) @ v
    if op == "conv2d":
        x, w, b = xs
        return lambda: F.conv2d(x, w, b, stride=c["stride"], padding=c["pad"])
    if op == "group_norm":
        x, g, b = xs
        return lambda: F.group_norm(x, c["G"], g, b, eps=1e-5)
    if op == "layer_norm":
        x, g, b = xs
        return lambda: F.layer_norm(x, (c["C"],), g, b, eps=1e-5)
    raise ValueError("unknown op " + op)


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    for line in sys.stdin:
        msg = json.loads(line)
        try:
            if msg["cmd"] == "setup":
                dtype = torch.bfloat16 if msg["dtype"] == "bf16" else torch.float32
                xs = [load(s, dtype) for s in msg["inputs"]]
                fwd = build(msg["op"], msg["case"], xs)
                with torch.no_grad():
                    out = fwd()
                out.float().numpy().astype(np.float32).tofile(msg["out"])
                state.update(xs=xs, fwd=fwd, ones=torch.ones_like(out))
                reply = {"ok": True, "torch": torch.__version__}
            elif msg["cmd"] == "time":
                xs, fwd = state["xs"], state["fwd"]

                def once():
                    if msg["mode"] == "fwd":
                        c, t = time.process_time(), time.perf_counter()
                        with torch.no_grad():
                            fwd()
                    else:
                        for x in xs:
                            x.grad = None
                        c, t = time.process_time(), time.perf_counter()
                        out = fwd()
                        out.backward(state["ones"])
                    return (time.perf_counter() - t) * 1e3, (time.process_time() - c) * 1e3

                runs = sorted(once() for _ in range(int(msg.get("n", 1))))
                ms, cpu = runs[len(runs) // 2]
                reply = {"ms": ms, "cpu_ms": cpu}
            else:
                reply = {"error": "unknown cmd"}
        except Exception as e:  # reported to the benchmark, which marks the case
            reply = {"error": str(e).splitlines()[0] if str(e) else type(e).__name__}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
