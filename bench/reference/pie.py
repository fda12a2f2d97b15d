"""ePIE / rPIE in numpy: the reference twin of src/main/classical/pie.ts (same update rules,
same conventions, fed the same position orders), for the `classical` bench group.

    python3 pie.py INPUT.npz OUTPUT.npz

INPUT holds `diffraction` (M, N, N) stored amplitudes (fftshifted, |F|/N), `xcoords`,
`ycoords` (patch centres), `probe` (N, N) complex, `orders` (iterations, M) int32, and
`params` float64 [H, W, alpha, beta, probe_update_start, probe_update (0/1), rpie (0/1)].
OUTPUT gets `object`, `probe`, `error` (per iteration) and `seconds`.
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


def main():
    src, dst = sys.argv[1], sys.argv[2]
    f = np.load(src)
    H, W, alpha, beta, start, pu, rpie = f["params"]
    obj, P, err, secs = reconstruct(
        f["diffraction"], f["xcoords"], f["ycoords"], f["probe"], f["orders"],
        int(H), int(W), float(alpha), float(beta), int(start), bool(pu), bool(rpie),
    )
    np.savez(dst, object=obj, probe=P, error=err, seconds=np.float64(secs))


if __name__ == "__main__":
    main()
