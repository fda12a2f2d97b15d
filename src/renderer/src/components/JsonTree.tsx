/**
 * A collapsible JSON tree with search highlighting and copy-path, for the manifest and
 * skip summary. Paths are copyable in the jq/JS form (`jobs[0].result.final_loss`); string
 * values that are file paths get their own copy button.
 */
import { useState } from 'react';
import { CopyIcon, FileIcon } from './Icons';
import { childPath, entries, isContainer, type Json, preview } from '../lib/json-tree';

interface Props {
  value: Json;
  /** Nodes that must be open (search hits' ancestors). */
  forceOpen: Set<string>;
  matches: Set<string>;
  /** Depth opened by default. */
  defaultDepth?: number;
  rootLabel: string;
  onCopy(text: string, what: string): void;
}

export function JsonTree({ value, forceOpen, matches, defaultDepth = 1, rootLabel, onCopy }: Props) {
  return (
    <ul className="jtree" aria-label={rootLabel}>
      <Node name={rootLabel} path="" value={value} depth={0} ctx={{ forceOpen, matches, defaultDepth, onCopy }} />
    </ul>
  );
}

interface Ctx {
  forceOpen: Set<string>;
  matches: Set<string>;
  defaultDepth: number;
  onCopy(text: string, what: string): void;
}

function looksLikePath(v: string): boolean {
  return /^(\/|[A-Za-z]:\\)/.test(v);
}

function Node({ name, path, value, depth, ctx }: { name: string; path: string; value: Json; depth: number; ctx: Ctx }) {
  const [open, setOpen] = useState<boolean | null>(null);
  const container = isContainer(value);
  const isOpen = ctx.forceOpen.has(path) || (open ?? depth < ctx.defaultDepth);
  const hit = ctx.matches.has(path);
  const label = (
    <span className={`jkey${hit ? ' hit' : ''}`}>
      {name}
      {container ? '' : ':'}
    </span>
  );
  const copyPath = (
    <button
      type="button"
      className="icon-btn copy"
      title={`Copy the path ${path || '(root)'}`}
      aria-label={`Copy path ${path || 'root'}`}
      onClick={() => ctx.onCopy(path, 'JSON path')}
    >
      <CopyIcon />
    </button>
  );
  if (!container) {
    const isStr = typeof value === 'string';
    return (
      <li className="jleaf">
        {label}{' '}
        <span className={`jval jval-${value === null ? 'null' : typeof value}${hit ? ' hit' : ''}`}>
          {preview(value)}
        </span>
        {path && copyPath}
        {isStr && looksLikePath(value) && (
          <button
            type="button"
            className="icon-btn"
            title="Copy this file path"
            aria-label={`Copy file ${value}`}
            onClick={() => ctx.onCopy(value, 'file path')}
          >
            <FileIcon />
          </button>
        )}
      </li>
    );
  }
  const kids = entries(value);
  return (
    <li>
      <button
        type="button"
        aria-expanded={isOpen}
        className="jtoggle"
        onClick={() => setOpen(!isOpen)}
        aria-label={`${isOpen ? 'Collapse' : 'Expand'} ${path || name}`}
      >
        {isOpen ? '▾' : '▸'}
      </button>
      {label} <span className="muted">{preview(value)}</span>
      {path && copyPath}
      {isOpen && (
        <ul>
          {kids.map(([k, v]) => (
            <Node key={String(k)} name={String(k)} path={childPath(path, k)} value={v} depth={depth + 1} ctx={ctx} />
          ))}
        </ul>
      )}
    </li>
  );
}
