/** A row of ARIA tabs: one button per [id, label], the selected one marked active. */
export function TabBar<T extends string>({
  tabs,
  selected,
  onSelect,
  className,
  label,
}: {
  tabs: readonly (readonly [T, string])[];
  selected: T;
  onSelect(tab: T): void;
  className: string;
  label: string;
}) {
  return (
    <div className={className} role="tablist" aria-label={label}>
      {tabs.map(([t, text]) => (
        <button
          key={t}
          type="button"
          role="tab"
          aria-selected={selected === t}
          className={selected === t ? 'active' : ''}
          onClick={() => onSelect(t)}
        >
          {text}
        </button>
      ))}
    </div>
  );
}
