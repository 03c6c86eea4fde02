import { createContext, useContext, useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, newKey } from './api.ts';
import type { FieldError } from './types.ts';
import { friendly } from './field-words.ts';

/**
 * Forms that let the API do the checking (noValidate): every problem+json error is shown next to
 * the field its `path` names, and all of them in a summary at the top that links to each field.
 */

export const fieldId = (path: string) => `f-${path.replace(/[^A-Za-z0-9_-]/g, '-')}`;

interface FormContextValue {
  errors: FieldError[];
  /** Makes field ids unique when the same form appears more than once on a page. */
  prefix: string;
}
const FormContext = createContext<FormContextValue>({ errors: [], prefix: '' });

/** The id of the control for `path` in the enclosing form. */
export function useFieldId(path: string): string {
  return useContext(FormContext).prefix + fieldId(path);
}

function errorsFor(errors: FieldError[], path: string): FieldError[] {
  return errors.filter((e) => e.path === path || e.path.startsWith(`${path}.`));
}

export function useFieldErrors(path: string): FieldError[] {
  return errorsFor(useContext(FormContext).errors, path);
}

/**
 * One submission at a time, an Idempotency-Key per submission, and its outcome. The key is kept when
 * the request got no answer or a server error (5xx): it may have been applied, in part or whole, and
 * the API's answer to a 5xx is to send it again with the same key, which finishes it or returns what
 * was done, never applies it twice (an interrupted referral sent again with a new key is refused for
 * six minutes as a second referral of her). A refusal (4xx) changed nothing: the next try is new.
 */
export function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const key = useRef<string>(newKey());
  async function run<T>(action: (idempotencyKey: string) => Promise<T>, success?: string): Promise<T | undefined> {
    if (busy) return undefined;
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      const result = await action(key.current);
      key.current = newKey();
      setDone(success);
      return result;
    } catch (e) {
      const apiError = e instanceof ApiError ? e : new ApiError(0, 'Error', (e as Error).message);
      if (apiError.status !== 0 && apiError.status < 500) key.current = newKey();
      setError(apiError);
      return undefined;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, done, run, setError, clear: () => (setError(undefined), setDone(undefined)) };
}

export function ErrorSummary({ error, mapPath, prefix = '' }: { error: ApiError; mapPath?: (path: string) => string; prefix?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, [error]);
  const titleId = useId();
  const errors = error.errors.map((e) => ({ ...e, path: mapPath ? mapPath(e.path) : e.path }));
  // Name each field as its label does, once the form is on the page; the API's path where there is no field.
  const [names, setNames] = useState<Record<string, string>>({});
  // The latest mapPath for the effect below, without making it rerun for each caller's fresh function.
  const mapRef = useRef(mapPath);
  useEffect(() => {
    mapRef.current = mapPath;
  });
  useEffect(() => {
    const found: Record<string, string> = {};
    for (const e of error.errors) {
      const path = mapRef.current ? mapRef.current(e.path) : e.path;
      const target = document.getElementById(prefix + fieldId(path));
      if (!target) continue;
      // A group of choices is named by its legend; anything else by its label.
      const group = target.closest('fieldset.choices')?.querySelector('legend')?.textContent;
      const text = target instanceof HTMLFieldSetElement ? target.querySelector('legend')?.textContent : (group ?? (target as HTMLInputElement).labels?.[0]?.textContent);
      if (text) found[path] = text;
    }
    // The fields are elsewhere in the form and their labels exist only once it is on the page: read
    // from the DOM after the commit, as an effect must.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    setNames(found);
  }, [error, prefix]);
  return (
    <div className="error-summary" role="alert" tabIndex={-1} ref={ref} aria-labelledby={titleId}>
      <h2 className="error-summary-title" id={titleId}>
        {error.status === 409 ? 'This could not be done now' : error.status === 403 ? 'Not allowed' : 'There is a problem'}
      </h2>
      <p>{error.errors.length > 0 && error.status === 400 ? 'Check the fields marked below.' : error.message}</p>
      {errors.length > 0 && (
        <ul>
          {errors.map((e, i) => (
            <li key={`${e.path}-${i}`}>
              <a
                href={`#${prefix}${fieldId(e.path)}`}
                onClick={(event) => {
                  const target = document.getElementById(prefix + fieldId(e.path));
                  if (target) {
                    event.preventDefault();
                    target.focus();
                    target.scrollIntoView({ block: 'center' });
                  }
                }}
              >
                {names[e.path] ?? e.path}: {friendly(e.message)}
              </a>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Form({
  onSubmit,
  error,
  children,
  mapPath,
  label,
  className,
  idPrefix = '',
}: {
  onSubmit: () => void;
  error?: ApiError | undefined;
  children: ReactNode;
  /** Rewrites error paths to the form's own (for arrays whose positions differ from the fields). */
  mapPath?: (path: string) => string;
  label?: string;
  className?: string;
  idPrefix?: string;
}) {
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit();
  };
  const errors = (error?.errors ?? []).map((e) => ({ ...e, path: mapPath ? mapPath(e.path) : e.path }));
  return (
    <FormContext.Provider value={{ errors, prefix: idPrefix }}>
      <form noValidate onSubmit={submit} className={className ?? 'form'} {...(label ? { 'aria-label': label } : {})}>
        {error && <ErrorSummary error={error} prefix={idPrefix} {...(mapPath ? { mapPath } : {})} />}
        {children}
      </form>
    </FormContext.Provider>
  );
}

function FieldMessages({ id, errors }: { id: string; errors: FieldError[] }) {
  if (errors.length === 0) return null;
  return (
    <p className="field-error" id={`${id}-error`}>
      <span className="visually-hidden">Error: </span>
      {errors.map((e) => friendly(e.message)).join('; ')}
    </p>
  );
}

/** Errors about a group as a whole (its exact path), shown at the top of the group. */
export function ExactErrors({ path }: { path: string }) {
  const id = useFieldId(path);
  const errors = useFieldErrors(path).filter((e) => e.path === path);
  if (errors.length === 0) return null;
  return <FieldMessages id={id} errors={errors} />;
}

interface BaseProps {
  path: string;
  label: ReactNode;
  hint?: ReactNode;
}

/** A labelled control: the label, a hint, the API's errors for this path, then the control. */
export function Field({ path, label, hint, children, className }: BaseProps & { children: (props: { id: string; 'aria-invalid'?: true; 'aria-describedby'?: string }) => ReactNode; className?: string }) {
  const id = useFieldId(path);
  const errors = useFieldErrors(path);
  const describedBy = [hint ? `${id}-hint` : '', errors.length ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className={`field${errors.length ? ' field-invalid' : ''}${className ? ` ${className}` : ''}`}>
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      <FieldMessages id={id} errors={errors} />
      {children({ id, ...(errors.length ? { 'aria-invalid': true as const } : {}), ...(describedBy ? { 'aria-describedby': describedBy } : {}) })}
    </div>
  );
}

export function TextInput({
  value,
  onChange,
  type = 'text',
  autoComplete,
  inputMode,
  width,
  ...base
}: BaseProps & { value: string; onChange: (v: string) => void; type?: string; autoComplete?: string; inputMode?: 'numeric' | 'text'; width?: 'short' | 'medium' }) {
  return (
    <Field {...base}>
      {(props) => (
        <input
          {...props}
          name={base.path}
          type={type}
          value={value}
          className={width ? `input-${width}` : undefined}
          onChange={(e) => onChange(e.target.value)}
          {...(autoComplete ? { autoComplete } : {})}
          {...(inputMode ? { inputMode } : {})}
        />
      )}
    </Field>
  );
}

export function TextArea({ value, onChange, rows = 3, ...base }: BaseProps & { value: string; onChange: (v: string) => void; rows?: number }) {
  return <Field {...base}>{(props) => <textarea {...props} name={base.path} rows={rows} value={value} onChange={(e) => onChange(e.target.value)} />}</Field>;
}

export function Select({
  value,
  onChange,
  options,
  placeholder,
  ...base
}: BaseProps & { value: string; onChange: (v: string) => void; options: readonly (readonly [string, string])[]; placeholder?: string }) {
  return (
    <Field {...base}>
      {(props) => (
        <select {...props} name={base.path} value={value} onChange={(e) => onChange(e.target.value)}>
          {placeholder !== undefined && <option value="">{placeholder}</option>}
          {options.map(([v, text]) => (
            <option key={v} value={v}>
              {text}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** A group of choices in a fieldset; the first control carries the path's id so error links land on it. */
function ChoiceGroup({ path, legend, hint, children, inline }: { path: string; legend: ReactNode; hint?: ReactNode; children: (first: string, describedBy?: string) => ReactNode; inline?: boolean }) {
  const id = useFieldId(path);
  const errors = useFieldErrors(path);
  const describedBy = [hint ? `${id}-hint` : '', errors.length ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <fieldset className={`field choices${inline ? ' inline' : ''}${errors.length ? ' field-invalid' : ''}`} {...(describedBy ? { 'aria-describedby': describedBy } : {})}>
      <legend>{legend}</legend>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      <FieldMessages id={id} errors={errors} />
      <div className="choice-list">{children(id, describedBy)}</div>
    </fieldset>
  );
}

export function Radios({
  path,
  legend,
  hint,
  value,
  onChange,
  options,
  inline,
}: {
  path: string;
  legend: ReactNode;
  hint?: ReactNode;
  value: string;
  onChange: (v: string) => void;
  options: readonly (readonly [string, string])[];
  inline?: boolean;
}) {
  return (
    <ChoiceGroup path={path} legend={legend} {...(hint ? { hint } : {})} {...(inline ? { inline } : {})}>
      {(first) =>
        options.map(([v, text], i) => {
          const id = i === 0 ? first : `${first}-${v}`;
          return (
            <div className="choice" key={v}>
              <input type="radio" id={id} name={path} value={v} checked={value === v} onChange={() => onChange(v)} />
              <label htmlFor={id}>{text}</label>
            </div>
          );
        })
      }
    </ChoiceGroup>
  );
}

export function Checkboxes({
  path,
  legend,
  hint,
  values,
  onChange,
  options,
  inline,
}: {
  path: string;
  legend: ReactNode;
  hint?: ReactNode;
  values: readonly string[];
  onChange: (v: string[]) => void;
  options: readonly (readonly [string, string])[];
  inline?: boolean;
}) {
  const toggle = (v: string, on: boolean) => onChange(on ? [...values, v] : values.filter((x) => x !== v));
  return (
    <ChoiceGroup path={path} legend={legend} {...(hint ? { hint } : {})} {...(inline ? { inline } : {})}>
      {(first) =>
        options.map(([v, text], i) => {
          const id = i === 0 ? first : `${first}-${v}`;
          return (
            <div className="choice" key={v}>
              <input type="checkbox" id={id} name={path} value={v} checked={values.includes(v)} onChange={(e) => toggle(v, e.target.checked)} />
              <label htmlFor={id}>{text}</label>
            </div>
          );
        })
      }
    </ChoiceGroup>
  );
}

export function Checkbox({ path, label, checked, onChange, hint }: { path: string; label: ReactNode; checked: boolean; onChange: (v: boolean) => void; hint?: ReactNode }) {
  const id = useFieldId(path);
  const errors = useFieldErrors(path);
  return (
    <div className={`field choice single${errors.length ? ' field-invalid' : ''}`}>
      <FieldMessages id={id} errors={errors} />
      <input
        type="checkbox"
        id={id}
        name={path}
        checked={checked}
        onChange={(e) => onChange(e.target.checked)}
        {...(errors.length ? { 'aria-invalid': true } : {})}
        {...(hint || errors.length ? { 'aria-describedby': [hint ? `${id}-hint` : '', errors.length ? `${id}-error` : ''].filter(Boolean).join(' ') } : {})}
      />
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

export function SubmitButton({ busy, children, tone = 'primary' }: { busy: boolean; children: ReactNode; tone?: 'primary' | 'secondary' | 'danger' }) {
  return (
    <button type="submit" className={`button ${tone}`} disabled={busy} aria-busy={busy || undefined}>
      {busy ? 'Working…' : children}
    </button>
  );
}

export const options = (values: readonly string[], labelOf: (v: string) => string) => values.map((v) => [v, labelOf(v)] as const);
