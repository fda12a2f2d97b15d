/**
 * A reconstruction enlarged: the report's amplitude, phase and error images (each the
 * reconstruction beside its ground truth) at full resolution in a modal dialog, one above
 * the other, with one zoom and pan shared by all three — zoom into a feature of the phase
 * and the amplitude and the error show the same place. Wheel or +/− zoom, drag pans,
 * "Fit" goes back; Escape closes.
 */
import { useEffect, useRef, useState } from 'react';
import { FIT, type View, zoomAt } from '../lib/zoom';

interface Props {
  title: string;
  images: { key: string; src: string }[];
  /** The image the user clicked (scrolled into view first). */
  initial: string;
  onClose(): void;
}

export function ReconViewer({ title, images, initial, onClose }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [view, setView] = useState<View>(FIT);
  const drag = useRef<{ x: number; y: number; v: View } | null>(null);

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (!d.open) d.showModal();
    d.querySelector(`[data-kind="${initial}"]`)?.scrollIntoView({ block: 'nearest' });
    return () => d.close();
  }, [initial]);

  // the buttons zoom about the middle of the panes
  const zoomButton = (factor: number) => {
    const pane = dialog.current?.querySelector('.recon-pane')?.getBoundingClientRect();
    setView((v) => zoomAt(v, factor, (pane?.width ?? 0) / 2, (pane?.height ?? 0) / 2));
  };

  return (
    <dialog ref={dialog} className="recon-viewer" aria-label={`Enlarged reconstruction: ${title}`} onClose={onClose}>
      <header>
        <h3 className="recon-title">{title}</h3>
        <span className="muted">
          full resolution · {Math.round(view.scale * 100)}% · wheel or +/− to zoom, drag to pan (all three together)
        </span>
        <button type="button" onClick={() => zoomButton(1.5)} aria-label="Zoom in">
          +
        </button>
        <button type="button" onClick={() => zoomButton(1 / 1.5)} aria-label="Zoom out">
          −
        </button>
        <button type="button" onClick={() => setView(FIT)}>
          Fit
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </header>
      <div className="recon-panes">
        {images.map((im) => (
          <figure key={im.key} data-kind={im.key}>
            <figcaption>{im.key}: reconstruction beside the ground truth</figcaption>
            <div
              className="recon-pane"
              onWheel={(e) => {
                const r = e.currentTarget.getBoundingClientRect();
                const factor = e.deltaY < 0 ? 1.25 : 1 / 1.25;
                setView((v) => zoomAt(v, factor, e.clientX - r.left, e.clientY - r.top));
              }}
              onPointerDown={(e) => {
                e.currentTarget.setPointerCapture(e.pointerId);
                drag.current = { x: e.clientX, y: e.clientY, v: view };
              }}
              onPointerMove={(e) => {
                const d = drag.current;
                if (!d || d.v.scale === 1) return;
                setView({ ...d.v, x: d.v.x + e.clientX - d.x, y: d.v.y + e.clientY - d.y });
              }}
              onPointerUp={() => {
                drag.current = null;
              }}
            >
              <img
                src={im.src}
                alt={`${im.key} of ${title}, enlarged`}
                draggable={false}
                style={{ transform: `translate(${view.x}px, ${view.y}px) scale(${view.scale})` }}
              />
            </div>
          </figure>
        ))}
      </div>
    </dialog>
  );
}
