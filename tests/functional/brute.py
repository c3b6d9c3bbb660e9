"""Brute-force loop references (independent of simulator.functional.conv / pool)."""

import numpy as np


def conv2d(x, w, s, p):
    n, ci, h, wd = x.shape
    co, _, k, _ = w.shape
    ho, wo = (h + 2 * p - k) // s + 1, (wd + 2 * p - k) // s + 1
    out = np.zeros((n, co, ho, wo))
    for a in range(n):
        for o in range(co):
            for i in range(ho):
                for j in range(wo):
                    acc = 0.0
                    for c in range(ci):
                        for di in range(k):
                            for dj in range(k):
                                hh, ww = i * s - p + di, j * s - p + dj
                                if 0 <= hh < h and 0 <= ww < wd:
                                    acc += x[a, c, hh, ww] * w[o, c, di, dj]
                    out[a, o, i, j] = acc
    return out


def conv2d_weight_grad(x, e, k, s, p):
    n, ci, h, wd = x.shape
    _, co, ho, wo = e.shape
    g = np.zeros((co, ci, k, k))
    for a in range(n):
        for o in range(co):
            for i in range(ho):
                for j in range(wo):
                    for c in range(ci):
                        for di in range(k):
                            for dj in range(k):
                                hh, ww = i * s - p + di, j * s - p + dj
                                if 0 <= hh < h and 0 <= ww < wd:
                                    g[o, c, di, dj] += e[a, o, i, j] * x[a, c, hh, ww]
    return g


def conv2d_transpose(e, w, hw, s, p):
    n, co, ho, wo = e.shape
    _, ci, k, _ = w.shape
    h, wd = hw
    dx = np.zeros((n, ci, h, wd))
    for a in range(n):
        for o in range(co):
            for i in range(ho):
                for j in range(wo):
                    for c in range(ci):
                        for di in range(k):
                            for dj in range(k):
                                hh, ww = i * s - p + di, j * s - p + dj
                                if 0 <= hh < h and 0 <= ww < wd:
                                    dx[a, c, hh, ww] += e[a, o, i, j] * w[o, c, di, dj]
    return dx


def maxpool_backward_first(x, g, k):
    """Route each window's gradient to its first maximum in row-major order."""
    n, c, h, w = x.shape
    dx = np.zeros_like(x, dtype=float)
    for a in range(n):
        for ch in range(c):
            for i in range(h // k):
                for j in range(w // k):
                    best, pos = None, None
                    for di in range(k):
                        for dj in range(k):
                            v = x[a, ch, i * k + di, j * k + dj]
                            if best is None or v > best:
                                best, pos = v, (i * k + di, j * k + dj)
                    dx[a, ch, pos[0], pos[1]] += g[a, ch, i, j]
    return dx


def avgpool(x, kh, kw):
    n, c, h, w = x.shape
    out = np.zeros((n, c, h // kh, w // kw))
    for i in range(h // kh):
        for j in range(w // kw):
            out[:, :, i, j] = x[:, :, i * kh:(i + 1) * kh, j * kw:(j + 1) * kw].mean(axis=(2, 3))
    return out


def lif(current, beta, theta, v_reset, reset):
    """current [T, ...] -> (o, u) by an explicit loop."""
    u_plus = np.zeros_like(current[0])
    us, os_ = [], []
    for t in range(current.shape[0]):
        u = beta * u_plus + current[t]
        o = (u > theta).astype(float)
        u_plus = u - v_reset * o if reset == "subtract" else u * (1 - o)
        us.append(u)
        os_.append(o)
    return np.array(os_), np.array(us)
