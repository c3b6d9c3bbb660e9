/* Compiled kernels of the functional engine: the elementwise and copy passes that numpy runs as
 * many separate sweeps over memory (simulator/functional/kernels.py binds them with ctypes).
 *
 * Each kernel is one pass over its arrays, in the order of the numpy code it replaces and with
 * the same arithmetic, operation by operation in the array's dtype (compiled with
 * -ffp-contract=off and no fast-math), so its results are bit-identical to the numpy path;
 * the weight standardisation alone accumulates its sums in double (more exact than numpy's
 * float32 sums; tests compare it to the numpy path with a tolerance).
 *
 * Plain C on raw pointers, no Python API in the kernels; ctypes releases the GIL around each
 * call, so the engine's thread pool (parallel.py) runs one call per part of the neurons /
 * samples / output channels.  Every kernel exists for float (_f32) and double (_f64): the
 * template below is this file included into itself once per type.
 *
 * Layouts (C-contiguous unless a row stride is given):
 *   "step columns" [steps, n] with row stride ld: element j of step t at a[t*ld + j];
 *   maps channels-last [N, H, W, C];  conv kernels stored OIHW [C_out, C_in, k*k] or, the
 *   engine's own, HWIO [k*k, C_in, C_out]: the GEMM operand [k*k*C_in, C_out] (rows in the
 *   im2col column order), the layout of the weight-gradient GEMM's result.
 */
#ifndef KT

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* neurons per block of the time recurrences: the state of a block stays in L2 while each step
 * streams long contiguous runs of every array (runs much shorter than a page defeat the
 * hardware prefetcher, which starts anew on each) */
#define BLOCK 16384

#define KT float
#define KS(name) name##_f32
#include "_kernels.c" /* this file, once per type */
#undef KT
#undef KS

#define KT double
#define KS(name) name##_f64
#include "_kernels.c" /* this file, once per type */
#undef KT
#undef KS

/* the library is loaded with ctypes; the module itself only makes it importable by name */
static struct PyModuleDef kernels_module = {PyModuleDef_HEAD_INIT, "_kernels",
    "Compiled kernels of tess-sim's functional engine (bound by kernels.py with ctypes).", -1,
    NULL};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&kernels_module); }

/* the kernels' interface version (kernels.py refuses a library built from another source) */
long tess_kernels_version(void) { return 4; }

#else /* ---- template: one copy per element type KT ---- */

/* Surrogate Psi of u, as neuron.psi: triangle gamma*max(0, 1 - |u - theta|/width), or
 * fast sigmoid 1/(slope*|u - theta| + 1)^2; the same operations in the same order. */
static inline KT KS(psi_of)(KT u, KT theta, int kind, KT a, KT gamma) {
    KT z = u - theta;
    z = z < 0 ? -z : z;
    if (kind == 0) {
        z = z / a;
        z = (KT)1 - z;
        z = z < 0 ? (KT)0 : z; /* np.maximum(0, z): z is never -0 here (1 - z rounds to +0) */
        return z * gamma;
    }
    z = z * a;
    z = z + (KT)1;
    z = z * z;
    return (KT)1 / z;
}

/* LIF recurrence of neuron._lif_loop over [steps, n] step columns (row stride ld):
 *   u[t] = beta*u+[t-1] + I[t];  o[t] = u[t] > theta;
 *   u+[t] = u[t] - reset*o[t] ("subtract") or u[t]*(1 - o[t]) ("zero");  ps[t] = Psi(u[t]).
 * u may be cur itself (in place); ps may be NULL; counts (NULL or [steps]) gets each step's
 * number of spikes added.  Returns 0, or -1 when out of memory. */
int KS(lif)(const KT *cur, KT *u, KT *o, KT *ps, long *counts, long steps, long n, long ld,
            KT beta, KT theta, KT reset, int zero_reset, int psi_kind, KT psi_a, KT gamma) {
    KT *state = malloc(BLOCK * sizeof(KT));
    if (!state) return -1;
    for (long j0 = 0; j0 < n; j0 += BLOCK) {
        long m = n - j0 < BLOCK ? n - j0 : BLOCK;
        for (long j = 0; j < m; j++) state[j] = 0;
        for (long t = 0; t < steps; t++) {
            const KT *c = cur + t * ld + j0;
            KT *ut = u + t * ld + j0, *ot = o + t * ld + j0;
            long fired = 0;
            for (long j = 0; j < m; j++) {
                KT s = beta * state[j];
                KT v = s + c[j];
                KT spike = v > theta ? (KT)1 : (KT)0;
                ut[j] = v;
                ot[j] = spike;
                fired += v > theta;
                state[j] = zero_reset ? v * ((KT)1 - spike) : v - reset * spike;
            }
            if (counts) counts[t] += fired;
            if (ps) {
                KT *pt = ps + t * ld + j0;
                for (long j = 0; j < m; j++) pt[j] = KS(psi_of)(ut[j], theta, psi_kind, psi_a, gamma);
            }
        }
    }
    free(state);
    return 0;
}

/* The one eligibility signal of rules._eligibility_loop over [steps, n] step columns:
 *   tr[t] = lam_post*tr[t-1] + ps[t]  (stored when tr != NULL, i.e. alpha_post != 0);
 *   reverse over t: r = lam_pre*r, then for t >= w0 r += a_pre*(m[t-w0]*ps[t]) (r = that
 *   term at t = T-1 or when lam_pre = 0), e[t] = r + a_post*(m[t-w0]*tr[t-1]) for t >= w0,
 *   t >= 1 (with tr), else e[t] = r.
 * m has steps - w0 rows (row stride ldm); ps, e, tr row stride ld.  Returns 0, or -1 when
 * out of memory. */
int KS(eligibility)(const KT *m, const KT *ps, KT *e, KT *tr, long steps, long w0, long n,
                    long ld, long ldm, KT lam_pre, KT lam_post, KT a_pre, KT a_post) {
    KT *r = malloc(BLOCK * sizeof(KT));
    if (!r) return -1;
    for (long j0 = 0; j0 < n; j0 += BLOCK) {
        long len = n - j0 < BLOCK ? n - j0 : BLOCK;
        if (tr) {
            for (long j = 0; j < len; j++) tr[j0 + j] = ps[j0 + j];
            for (long t = 1; t < steps; t++) {
                const KT *p = ps + t * ld + j0;
                const KT *prev = tr + (t - 1) * ld + j0;
                KT *cur = tr + t * ld + j0;
                for (long j = 0; j < len; j++) cur[j] = lam_post * prev[j] + p[j];
            }
        }
        for (long j = 0; j < len; j++) r[j] = 0;
        for (long t = steps - 1; t >= 0; t--) {
            KT *et = e + t * ld + j0;
            for (long j = 0; j < len; j++) r[j] = lam_pre * r[j];
            if (t >= w0) {
                const KT *mt = m + (t - w0) * ldm + j0, *pt = ps + t * ld + j0;
                int replace = lam_pre == 0 || t == steps - 1;
                for (long j = 0; j < len; j++) {
                    KT term = a_pre * (mt[j] * pt[j]);
                    r[j] = replace ? term : r[j] + term;
                }
                if (tr && t >= 1) {
                    const KT *tp = tr + (t - 1) * ld + j0;
                    for (long j = 0; j < len; j++) et[j] = r[j] + a_post * (mt[j] * tp[j]);
                    continue;
                }
            }
            for (long j = 0; j < len; j++) et[j] = r[j];
        }
    }
    free(r);
    return 0;
}

/* Max pool forward of pool.pool_forward on samples [n0, n1) of a channels-last map
 * x [N, h, w, c]: out [N, ho, wo, c] the window maxima, idx the row-major window offset of
 * each output's FIRST maximum (ties: the earliest offset). */
void KS(maxpool)(const KT *x, KT *out, unsigned char *idx, long n0, long n1, long h, long w,
                 long c, long kh, long kw, long ho, long wo) {
    for (long s = n0; s < n1; s++)
        for (long a = 0; a < ho; a++)
            for (long b = 0; b < wo; b++) {
                KT *o = out + ((s * ho + a) * wo + b) * c;
                unsigned char *id = idx + ((s * ho + a) * wo + b) * c;
                for (long q = 0; q < kh * kw; q++) {
                    const KT *v = x + ((s * h + a * kh + q / kw) * w + b * kw + q % kw) * c;
                    if (q == 0) {
                        memcpy(o, v, c * sizeof(KT));
                        memset(id, 0, c);
                        continue;
                    }
                    for (long k = 0; k < c; k++)
                        if (v[k] > o[k]) {
                            o[k] = v[k];
                            id[k] = (unsigned char)q;
                        }
                }
            }
}

/* Max pool backward of pool.pool_backward on samples [n0, n1): g [N, ho, wo, c] routed to the
 * first maximum of each window, out [N, h, w, c]; positions no window covers get 0. */
void KS(maxpool_grad)(const KT *g, const unsigned char *idx, KT *out, long n0, long n1, long h,
                      long w, long c, long kh, long kw, long ho, long wo) {
    for (long s = n0; s < n1; s++) {
        if (ho * kh != h || wo * kw != w) memset(out + s * h * w * c, 0, h * w * c * sizeof(KT));
        for (long a = 0; a < ho; a++)
            for (long b = 0; b < wo; b++) {
                const KT *gv = g + ((s * ho + a) * wo + b) * c;
                const unsigned char *id = idx + ((s * ho + a) * wo + b) * c;
                for (long q = 0; q < kh * kw; q++) {
                    KT *o = out + ((s * h + a * kh + q / kw) * w + b * kw + q % kw) * c;
                    for (long k = 0; k < c; k++) o[k] = id[k] == q ? gv[k] : (KT)0;
                }
            }
    }
}

/* im2col of conv.im2col on samples [n0, n1) of a channels-last map x [N, h, w, c]:
 * cols [N, ho, wo, k, k, c], zeros where the receptive field reaches into the padding. */
void KS(im2col)(const KT *x, KT *cols, long n0, long n1, long h, long w, long c, long k,
                long stride, long pad, long ho, long wo) {
    long run = k * c;
    for (long s = n0; s < n1; s++)
        for (long a = 0; a < ho; a++)
            for (long b = 0; b < wo; b++) {
                KT *dst = cols + ((s * ho + a) * wo + b) * k * run;
                long left = b * stride - pad;
                for (long i = 0; i < k; i++, dst += run) {
                    long row = a * stride + i - pad;
                    if (row < 0 || row >= h) {
                        memset(dst, 0, run * sizeof(KT));
                        continue;
                    }
                    const KT *src = x + ((s * h + row) * w) * c;
                    if (left >= 0 && left + k <= w) {
                        memcpy(dst, src + left * c, run * sizeof(KT));
                        continue;
                    }
                    for (long j = 0; j < k; j++) {
                        long col = left + j;
                        if (col < 0 || col >= w) memset(dst + j * c, 0, c * sizeof(KT));
                        else memcpy(dst + j * c, src + col * c, c * sizeof(KT));
                    }
                }
            }
}

/* col2im of conv.conv2d_transpose on samples [n0, n1): dx [N, h, w, c] (channels-last, the
 * unpadded map) = the sum over kernel offsets (i, j) of dcols [N, ho, wo, k, k, c] placed at
 * (a*stride + i - pad, b*stride + j - pad); what falls into the padding is dropped.  Added in
 * numpy's order: offsets (i, j) outermost, from zero. */
void KS(col2im)(const KT *dcols, KT *dx, long n0, long n1, long h, long w, long c, long k,
                long stride, long pad, long ho, long wo) {
    for (long s = n0; s < n1; s++) {
        KT *out = dx + s * h * w * c;
        memset(out, 0, h * w * c * sizeof(KT));
        for (long i = 0; i < k; i++)
            for (long j = 0; j < k; j++)
                for (long a = 0; a < ho; a++) {
                    long row = a * stride + i - pad;
                    if (row < 0 || row >= h) continue;
                    for (long b = 0; b < wo; b++) {
                        long col = b * stride + j - pad;
                        if (col < 0 || col >= w) continue;
                        const KT *src = dcols + ((((s * ho + a) * wo + b) * k + i) * k + j) * c;
                        KT *dst = out + (row * w + col) * c;
                        for (long q = 0; q < c; q++) dst[q] += src[q];
                    }
                }
    }
}

/* Conv kernels between the stored layout OIHW, w [co, ci, kk] (C-contiguous), and the
 * engine's HWIO, wt [kk, ci, co] = the GEMM operand [kk*ci, co] whose columns are the output
 * channels; channels [k0, k1) of every (j, c), by 16x16 tiles of (c, k) per kernel offset j. */
void KS(to_hwio)(const KT *w, KT *wt, long k0, long k1, long ci, long kk, long co) {
    for (long j = 0; j < kk; j++)
        for (long c0 = 0; c0 < ci; c0 += 16)
            for (long t0 = k0; t0 < k1; t0 += 16) {
                long c1 = c0 + 16 < ci ? c0 + 16 : ci, t1 = t0 + 16 < k1 ? t0 + 16 : k1;
                for (long c = c0; c < c1; c++)
                    for (long k = t0; k < t1; k++)
                        wt[(j * ci + c) * co + k] = w[(k * ci + c) * kk + j];
            }
}

void KS(from_hwio)(const KT *wt, KT *w, long k0, long k1, long ci, long kk, long co) {
    for (long t0 = k0; t0 < k1; t0 += 16)
        for (long c0 = 0; c0 < ci; c0 += 16) {
            long c1 = c0 + 16 < ci ? c0 + 16 : ci, t1 = t0 + 16 < k1 ? t0 + 16 : k1;
            for (long k = t0; k < t1; k++)
                for (long c = c0; c < c1; c++)
                    for (long j = 0; j < kk; j++)
                        w[(k * ci + c) * kk + j] = wt[(j * ci + c) * co + k];
        }
}

/* Scaled weight standardisation (standardise.py) of the output channels (columns) [k0, k1) of
 * HWIO kernels wt [n, co] (n = kk*ci, the fan-in):
 *   mean[k], s[k] = sqrt(var[k]*n + eps) (unbiased var; sums in double),
 *   eff[i, k] = (gamma*gain[k]) * ((wt[i, k] - mean[k]) / s[k]),
 * eff [n, co] in wt's layout.  Two passes down the rows (statistics, then W_eff), each over
 * runs of k1 - k0 contiguous values (running sums per channel).  Returns 0, or -1 when out of
 * memory. */
int KS(standardise)(const KT *wt, const KT *gain, KT *eff, KT *mean, KT *s, long k0, long k1,
                    long n, long co, KT gamma, double eps) {
    long m = k1 - k0;
    double *acc = calloc(2 * m, sizeof(double)), *sq = acc + m;
    if (!acc) return -1;
    /* one pass: sums of (w - w[0]) and its squares per channel (shifted by a sample of the
     * channel, so that a mean far from zero loses no precision to cancellation) */
    const KT *first = wt + k0;
    for (long i = 0; i < n; i++) {
        const KT *row = wt + i * co + k0;
        for (long b = 0; b < m; b++) {
            double d = (double)row[b] - (double)first[b];
            acc[b] += d;
            sq[b] += d * d;
        }
    }
    for (long b = 0; b < m; b++) {
        double d = acc[b] / n;
        mean[k0 + b] = (KT)(first[b] + d);
        /* unbiased variance: (sum(d^2) - n*mean(d)^2) / (n - 1) */
        s[k0 + b] = (KT)sqrt((sq[b] - n * d * d) / (n - 1) * n + eps);
    }
    KT *gg = (KT *)acc; /* acc is no longer needed: gamma*gain per channel */
    for (long b = 0; b < m; b++) gg[b] = gamma * gain[k0 + b];
    for (long i = 0; i < n; i++) {
        const KT *row = wt + i * co + k0, *mu = mean + k0, *sk = s + k0;
        KT *out = eff + i * co + k0;
        for (long b = 0; b < m; b++) out[b] = gg[b] * ((row[b] - mu[b]) / sk[b]);
    }
    free(acc);
    return 0;
}

/* Backward of the standardisation for the columns [k0, k1): from G = dL/dW_eff [n, co] (the
 * weight-gradient GEMM's result, HWIO) to dW [n, co] (HWIO) and dgain [co]
 * (standardise.py's formulas; sums and the final arithmetic in double):
 *   dgain = gamma*sum(G*What);  H = gamma*gain*G;  coef = sum(H*Wc)*n/((n-1)*s^3);
 *   dWc = H/s - Wc*coef;  dW = dWc - mean(dWc)  (Wc = wt - mean, What = Wc/s);
 * mean(dWc) = (gain*sum(gamma*G)/s - coef*sum(Wc))/n.  Two passes down the rows.
 * Returns 0, or -1 when out of memory. */
int KS(standardise_grad)(const KT *G, const KT *wt, const KT *gain, const KT *mean,
                         const KT *s, KT *dw, KT *dgain, long k0, long k1, long n, long co,
                         KT gamma) {
    long m = k1 - k0;
    double *acc = calloc(6 * m, sizeof(double));
    if (!acc) return -1;
    double *gw = acc, *hs = acc + m, *ws = acc + 2 * m;
    double *coef = acc + 3 * m, *scale = acc + 4 * m, *shift = acc + 5 * m;
    const KT *mu = mean + k0;
    for (long i = 0; i < n; i++) {
        const KT *g = G + i * co + k0, *w = wt + i * co + k0;
        for (long b = 0; b < m; b++) {
            double h = (double)gamma * g[b], wc = (double)(w[b] - mu[b]);
            gw[b] += h * wc;
            hs[b] += h;
            ws[b] += wc;
        }
    }
    for (long b = 0; b < m; b++) {
        double sk = s[k0 + b], gk = gain[k0 + b];
        dgain[k0 + b] = (KT)(gw[b] / sk);
        coef[b] = gk * gw[b] * n / ((n - 1) * sk * sk * sk);
        scale[b] = gk / sk;
        shift[b] = (gk * hs[b] / sk - coef[b] * ws[b]) / n;
    }
    for (long i = 0; i < n; i++) {
        const KT *g = G + i * co + k0, *w = wt + i * co + k0;
        KT *out = dw + i * co + k0;
        for (long b = 0; b < m; b++) {
            double h = (double)gamma * g[b], wc = (double)(w[b] - mu[b]);
            out[b] = (KT)(h * scale[b] - wc * coef[b] - shift[b]);
        }
    }
    free(acc);
    return 0;
}

#endif
