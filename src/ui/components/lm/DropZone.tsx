/** A drop target for files with a "choose files" button (the same files either way). */
import { useRef, useState, type ReactNode } from 'react';

export function DropZone({
  accept,
  multiple,
  onFiles,
  testId,
  children,
  disabled,
}: {
  accept: string;
  multiple?: boolean;
  onFiles: (files: File[]) => void;
  testId: string;
  children: ReactNode;
  disabled?: boolean;
}) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  return (
    <div
      className={`dropzone${over ? ' over' : ''}`}
      data-testid={testId}
      onDragOver={(e) => {
        if (disabled) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        if (disabled) return;
        const files = [...e.dataTransfer.files];
        if (files.length) onFiles(files);
      }}
    >
      <div className="dropzone-text">{children}</div>
      <button type="button" disabled={disabled} onClick={() => input.current?.click()}>
        Choose file{multiple ? 's' : ''}…
      </button>
      <input
        ref={input}
        type="file"
        hidden
        accept={accept}
        multiple={multiple}
        data-testid={`${testId}-input`}
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          e.target.value = '';
          if (files.length) onFiles(files);
        }}
      />
    </div>
  );
}

/** "12.3 MB" */
export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toPrecision(3)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toPrecision(3)} MB`;
  return `${(n / 1024 ** 3).toPrecision(3)} GB`;
}
