// A JSON value edited as text: each edit that parses is kept at once; one that does not says why and keeps the
// last good value. Used for a trigger's sample payload and a step's pinned output.

import { useEffect, useState } from 'react';

export function JsonText({
  id,
  valueKey,
  value,
  onChange,
  placeholder,
  rows = 6,
  testId,
}: {
  id: string;
  /** Which value is shown (a node id): the text is reset only when it changes, never while it is being typed. */
  valueKey: string;
  value: unknown;
  /** undefined when the text is emptied. */
  onChange: (value: unknown) => void;
  placeholder?: string;
  rows?: number;
  testId?: string;
}) {
  const [text, setText] = useState(value === undefined ? '' : JSON.stringify(value, null, 2));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setText(value === undefined ? '' : JSON.stringify(value, null, 2));
    setError(null);
  }, [valueKey]);

  const commit = (next: string) => {
    setText(next);
    if (next.trim() === '') {
      setError(null);
      onChange(undefined);
      return;
    }
    try {
      onChange(JSON.parse(next));
      setError(null);
    } catch (failure) {
      setError(`Not JSON yet: ${failure instanceof Error ? failure.message : String(failure)}`);
    }
  };
  return (
    <>
      <textarea
        id={id}
        className="input input--mono textarea"
        rows={rows}
        value={text}
        placeholder={placeholder}
        spellCheck={false}
        onChange={(e) => commit(e.target.value)}
        aria-invalid={error !== null}
        data-testid={testId}
      />
      {error && <p className="field__error">{error}</p>}
    </>
  );
}
