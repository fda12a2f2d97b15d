"""ePIE / rPIE / LSQML in numpy: the reference twin of src/main/classical/pie.ts and
lsqml.ts (same update rules, same conventions, fed the same position orders), for the
`classical` bench group.

    python3 pie.py INPUT.npz OUTPUT.npz

INPUT holds `diffraction` (M, N, N) stored amplitudes (fftshifted, |F|/N), `xcoords`,
`ycoords` (patch centres), `probe` (N, N) complex, `orders` (iterations, M) int32, and
`params` float64 [H, W, alpha, beta, probe_update_start, probe_update (0/1), rpie (0/1)],
optionally followed by [lsqml (0/1), delta, tv (the prior's weight μ in the data term's
units, as pie.ts' tvWeight gives it), tv_epsilon, momentum]. OUTPUT gets `object`, `probe`, `error` (per iteration) and `seconds`.
LSQML is written the numpy way: every position at once (batched FFTs, bincount scatters).
"""
import sys
import time

import numpy as np


def reconstruct(diffraction, xs, ys, probe, orders, H, W, alpha, beta, start, probe_update, rpie):
    M, N, _ = diffraction.shape
    mod = N * np.fft.ifftshift(diffraction.astype(np.float64), axes=(-2, -1))
    norm = float((mod**2).sum()) or 1.0
    rows = np.rint(ys).astype(int) - N // 2
    cols = np.rint(xs).astype(int) - N // 2
    obj = np.ones((H, W), np.complex128)
    P = probe.astype(np.complex128).copy()
    errors = []
    t0 = time.perf_counter()
    for it, order in enumerate(orders):
        update_probe = probe_update and it >= start
        err = 0.0
        for j in order:
            r0, c0 = rows[j], cols[j]
            z = obj[r0 : r0 + N, c0 : c0 + N].copy()
            psi = P * z
            F = np.fft.fft2(psi)
            a = np.abs(F)
            err += float(((a - mod[j]) ** 2).sum())
            Fp = np.where(a > 0, mod[j] * F / np.where(a > 0, a, 1), mod[j])
            d = np.fft.ifft2(Fp) - psi
            p2 = (P.real**2 + P.imag**2)
            if rpie:
                w_o = 1 / ((1 - alpha) * p2 + alpha * p2.max())
            else:
                w_o = alpha / p2.max()
            obj[r0 : r0 + N, c0 : c0 + N] += np.conj(P) * d * w_o
            if update_probe:
                z2 = z.real**2 + z.imag**2
                w_p = 1 / ((1 - beta) * z2 + beta * z2.max()) if rpie else beta / z2.max()
                P = P + np.conj(z) * d * w_p
        errors.append(err / norm)
    return obj, P, np.array(errors), time.perf_counter() - t0


def lsqml(diffraction, xs, ys, probe, iterations, H, W, alpha, beta, start, probe_update, delta, tv, tv_eps, momentum):
    M, N, _ = diffraction.shape
    mod = N * np.fft.ifftshift(diffraction.astype(np.float64), axes=(-2, -1))
    norm = float((mod**2).sum()) or 1.0
    rows = np.rint(ys).astype(int) - N // 2
    cols = np.rint(xs).astype(int) - N // 2
    r = np.arange(N)
    flat = ((rows[:, None, None] + r[None, :, None]) * W + cols[:, None, None] + r[None, None, :]).ravel()
    obj = np.ones(H * W, np.complex128)
    V = np.zeros(H * W, np.complex128)
    P = probe.astype(np.complex128).copy()
    scatter = lambda v: np.bincount(flat, weights=v.ravel(), minlength=H * W)  # noqa: E731
    errors = []
    t0 = time.perf_counter()
    for it in range(iterations):
        update_probe = probe_update and it >= start
        O = obj[flat].reshape(M, N, N)
        psi = P * O
        F = np.fft.fft2(psi)
        a = np.abs(F)
        errors.append(float(((a - mod) ** 2).sum()) / norm)
        Fp = np.where(a > 0, mod * F / np.where(a > 0, a, 1), mod)
        chi = np.fft.ifft2(Fp) - psi
        g = np.conj(P) * chi
        numO = scatter(g.real) + 1j * scatter(g.imag)
        p2 = P.real**2 + P.imag**2
        denO = scatter(np.broadcast_to(p2, (M, N, N)))
        if tv > 0:
            amp = np.abs(obj).reshape(H, W)
            dx = np.zeros((H, W))
            dy = np.zeros((H, W))
            dx[:, :-1] = amp[:, 1:] - amp[:, :-1]
            dy[:-1, :] = amp[1:, :] - amp[:-1, :]
            w = 1 / np.sqrt(dx**2 + dy**2 + tv_eps**2)
            gx, gy = w * dx, w * dy
            d = gx + gy
            d[:, 1:] -= gx[:, :-1]
            d[1:, :] -= gy[:-1, :]
            unit = np.where(amp > 0, obj.reshape(H, W) / np.where(amp > 0, amp, 1), 0)
            numO += (tv * d * unit).ravel()
            curv = 2 * w
            curv[:, 1:] += w[:, :-1]
            curv[1:, :] += w[:-1, :]
            curv = tv * curv.ravel()
        else:
            curv = 0
        dO = numO / (denO + delta * denO.max() + curv)
        hP = np.conj(O) * chi
        numP = hP.sum(0)
        denP = (O.real**2 + O.imag**2).sum(0)
        dP = numP / (denP + delta * denP.max())
        A = P * dO[flat].reshape(M, N, N)
        B = dP * O
        re = lambda x, y: (x.real * y.real + x.imag * y.imag).sum((1, 2))  # noqa: E731
        aa, ab, bb, ax, bx = re(A, A), re(A, B), re(B, B), re(A, chi), re(B, chi)
        safe = np.where(aa > 0, aa, 1)
        sa = np.where(aa > 0, ax / safe, 0.0)
        sb = np.zeros(M)
        if update_probe:
            det = aa * bb - ab * ab
            ok = (det > 1e-12 * aa * bb) & (det > 0)
            dd = np.where(ok, det, 1)
            sa = np.where(ok, (ax * bb - bx * ab) / dd, sa)
            sb = np.where(ok, (bx * aa - ax * ab) / dd, 0.0)
        sa = alpha * np.clip(sa, 0, 2)
        sb = beta * np.clip(sb, 0, 2)
        acc = scatter(sa[:, None, None] * p2[None])
        V = np.where(denO > 0, momentum * V + acc / np.where(denO > 0, denO, 1) * dO, V)
        obj += np.where(denO > 0, V, 0)
        if update_probe and M > 0:
            P = P + sb.mean() * dP
    return obj.reshape(H, W), P, np.array(errors), time.perf_counter() - t0


def main():
    src, dst = sys.argv[1], sys.argv[2]
    f = np.load(src)
    params = f["params"]
    H, W, alpha, beta, start, pu, rpie = params[:7]
    if len(params) > 7 and params[7]:
        delta, tv, tv_eps, momentum = params[8:12]
        obj, P, err, secs = lsqml(
            f["diffraction"], f["xcoords"], f["ycoords"], f["probe"], len(f["orders"]),
            int(H), int(W), float(alpha), float(beta), int(start), bool(pu), float(delta), float(tv), float(tv_eps),
            float(momentum),
        )
        np.savez(dst, object=obj, probe=P, error=err, seconds=np.float64(secs))
        return
    obj, P, err, secs = reconstruct(
        f["diffraction"], f["xcoords"], f["ycoords"], f["probe"], f["orders"],
        int(H), int(W), float(alpha), float(beta), int(start), bool(pu), bool(rpie),
    )
    np.savez(dst, object=obj, probe=P, error=err, seconds=np.float64(secs))


if __name__ == "__main__":
    main()
