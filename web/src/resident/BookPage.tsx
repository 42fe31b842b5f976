// /book: the health book. Everything the connected facilities recorded, newest first, grouped
// by day; filters (facility, kind, dates) and the search live in the address, so Back and a
// bookmark bring the same view; "Load more" follows the server's cursor. A result shows its
// value, unit and reference range, and a High/Low flag in words and a symbol, not colour alone.
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { useI18n } from '../i18n/context';
import type { MessageKey } from '../i18n/en';
import { PageHeading } from '../components/PageHeading';
import { NetworkError, safeLinkPath } from '../lib/api';
import { formatDate, formatDateTime, isDateOnly } from '../lib/dates';
import { rangeOf, valueOf } from '../lib/details';
import { documentPath, isDocumentId } from '../lib/documents';
import {
  appendPage, entryKinds, filterFromSearch, filterProblem, filterSearch, getTimeline, groupByDay, recordPath,
  type Facility, type TimelineEntry, type TimelineFilter,
} from '../lib/timeline';
import { Link, navigate } from '../router';
import { refusalText, useRefusal } from './common';

type State =
  | { step: 'loading' }
  | { step: 'failed'; text: string }
  | { step: 'ready'; entries: TimelineEntry[]; next: string | null; facilities: Facility[]; more: 'idle' | 'loading' | 'failed' };

export function BookPage({ search }: { search: string }) {
  const { t, locale } = useI18n();
  const applied = filterFromSearch(search);
  const appliedKey = filterSearch(applied);
  const [form, setForm] = useState<TimelineFilter>(applied);
  const [state, setState] = useState<State>({ step: 'loading' });
  const [rangeError, setRangeError] = useState(false);
  const refusal = useRefusal();
  const ids = { q: useId(), facility: useId(), kind: useId(), from: useId(), to: useId(), filters: useId(), range: useId() };

  const load = useCallback(() => {
    const f = filterFromSearch(appliedKey);
    setForm(f);
    setState({ step: 'loading' });
    let live = true;
    getTimeline(f).then((res) => {
      if (!live) return;
      if (res.ok) setState({ step: 'ready', entries: res.value.entries, next: res.value.next, facilities: res.value.facilities, more: 'idle' });
      else {
        const r = refusal(res.problem);
        if (r) setState({ step: 'failed', text: refusalText(r, t) });
      }
    }, (e: unknown) => {
      if (!(e instanceof NetworkError)) throw e;
      if (live) setState({ step: 'failed', text: t('app.networkError') });
    });
    return () => {
      live = false;
    };
  }, [appliedKey, refusal, t]);
  useEffect(load, [load]);

  const loadMore = async () => {
    if (state.step !== 'ready' || !state.next) return;
    setState({ ...state, more: 'loading' });
    try {
      const res = await getTimeline(applied, state.next);
      if (res.ok) {
        setState((s) => (s.step === 'ready' ? { ...s, entries: appendPage(s.entries, res.value.entries), next: res.value.next, more: 'idle' } : s));
      } else if (refusal(res.problem)) {
        setState((s) => (s.step === 'ready' ? { ...s, more: 'failed' } : s));
      }
    } catch (e) {
      if (!(e instanceof NetworkError)) throw e;
      setState((s) => (s.step === 'ready' ? { ...s, more: 'failed' } : s));
    }
  };

  const apply = (e: FormEvent) => {
    e.preventDefault();
    if (filterProblem(form)) {
      setRangeError(true);
      return;
    }
    setRangeError(false);
    navigate(`/book${filterSearch(form)}`);
  };
  const clear = () => {
    setRangeError(false);
    navigate('/book');
  };

  const filtered = appliedKey !== '';
  const facilities = state.step === 'ready' ? state.facilities : [];

  return (
    <>
      <PageHeading title={t('book.title')}>{t('book.title')}</PageHeading>
      <p>{t('book.intro')}</p>
      <form className="card filters" onSubmit={apply} noValidate aria-labelledby={ids.filters}>
        <h2 id={ids.filters} className="visually-hidden">{t('book.filters')}</h2>
        <div className="filters__search">
          <label htmlFor={ids.q}>{t('book.search')}</label>
          <div className="inline-input">
            <input id={ids.q} type="search" value={form.q} onChange={(e) => setForm({ ...form, q: e.target.value })} />
            <button type="submit" className="button">{t('book.searchButton')}</button>
          </div>
        </div>
        <details className="filters__more" open={filtered && (!!applied.facility || !!applied.kind || !!applied.from || !!applied.to)}>
          <summary>{t('book.filters')}</summary>
          <div className="filters__grid">
            <div className="field">
              <label htmlFor={ids.facility}>{t('book.facility')}</label>
              <select id={ids.facility} value={form.facility} onChange={(e) => setForm({ ...form, facility: e.target.value })}>
                <option value="">{t('book.all')}</option>
                {facilities.map((f) => <option key={f.code} value={f.code}>{f.name}</option>)}
                {form.facility && !facilities.some((f) => f.code === form.facility) && <option value={form.facility}>{form.facility}</option>}
              </select>
            </div>
            <div className="field">
              <label htmlFor={ids.kind}>{t('book.kind')}</label>
              <select id={ids.kind} value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value })}>
                <option value="">{t('book.all')}</option>
                {entryKinds.map((k) => <option key={k} value={k}>{t(`kindOf.${k}` as MessageKey)}</option>)}
              </select>
            </div>
            <div className="field">
              <label htmlFor={ids.from}>{t('book.from')}</label>
              <input id={ids.from} type="date" value={form.from} aria-invalid={rangeError || undefined}
                aria-describedby={rangeError ? ids.range : undefined} onChange={(e) => setForm({ ...form, from: e.target.value })} />
            </div>
            <div className="field">
              <label htmlFor={ids.to}>{t('book.to')}</label>
              <input id={ids.to} type="date" value={form.to} aria-invalid={rangeError || undefined}
                aria-describedby={rangeError ? ids.range : undefined} onChange={(e) => setForm({ ...form, to: e.target.value })} />
            </div>
          </div>
          {rangeError && <p id={ids.range} className="message message--error" role="alert">{t('book.rangeError')}</p>}
          <div className="actions">
            <button type="submit" className="button">{t('book.apply')}</button>
            {filtered && <button type="button" className="button button--secondary" onClick={clear}>{t('book.clear')}</button>}
          </div>
        </details>
      </form>

      {state.step === 'loading' && <p role="status">{t('app.loading')}</p>}
      {state.step === 'failed' && (
        <>
          <p className="message message--error" role="alert">{state.text}</p>
          <button type="button" className="button button--secondary" onClick={load}>{t('app.retry')}</button>
        </>
      )}
      {state.step === 'ready' && (
        <>
          <p role="status" className="hint">
            {state.entries.length === 0 ? (filtered ? t('book.emptyFiltered') : t('book.empty')) :
              state.entries.length === 1 ? t('book.countOne') : t('book.count', { n: state.entries.length })}
          </p>
          {groupByDay(state.entries).map((g) => (
            <section key={g.day} className="day" aria-labelledby={`day-${g.day}`}>
              <h2 id={`day-${g.day}`} className="day__title">{formatDate(g.day, locale)}</h2>
              <ul className="entries">
                {g.entries.map((e) => <Entry key={e.id} entry={e} />)}
              </ul>
            </section>
          ))}
          {state.next ? (
            <div className="actions">
              <button type="button" className="button button--secondary" disabled={state.more === 'loading'} onClick={() => void loadMore()}>
                {state.more === 'loading' ? t('book.loadingMore') : t('book.more')}
              </button>
              {state.more === 'failed' && <p className="message message--error" role="alert">{t('app.networkError')}</p>}
            </div>
          ) : state.entries.length > 0 && <p className="hint">{t('book.end')}</p>}
        </>
      )}
    </>
  );
}

function Entry({ entry: e }: { entry: TimelineEntry }) {
  const { t, locale } = useI18n();
  const v = e.value;
  const out = v?.flag === 'H' || v?.flag === 'L';
  const range = v ? rangeOf(v, locale) : undefined;
  const rangeText = range
    ? range.kind === 'between' ? t('lab.rangeBetween', { low: range.low, high: range.high })
      : range.kind === 'atLeast' ? t('lab.rangeAtLeast', { low: range.low }) : t('lab.rangeAtMost', { high: range.high })
    : undefined;
  // A verifiable document opens on its own page (the patient's view, with its QR code and links).
  const doc = e.document && isDocumentId(e.document.id) ? documentPath(e.document.id) : safeLinkPath(e.document?.link);
  return (
    <li className={`entry entry--${e.kind}${out ? ' entry--out' : ''}`}>
      <p className="entry__kind">{t(`kindOf.${e.kind}` as MessageKey)}</p>
      <h3 className="entry__title"><Link href={recordPath(e.id)}>{e.title}</Link></h3>
      <p className="entry__meta">
        {t('book.at', { facility: e.facility.name })}
        {!isDateOnly(e.date) && <> · {formatDateTime(e.date, locale)}</>}
      </p>
      {v && (
        <p className="entry__value">
          <span className="results__value">{t('book.result', { value: valueOf(v, locale) })}</span>
          {out && ' '}
          {out && (
            <strong className="flag">
              <span aria-hidden="true">{v.flag === 'H' ? '▲ ' : '▼ '}</span>
              {t(v.flag === 'H' ? 'lab.high' : 'lab.low')}
            </strong>
          )}
          {rangeText && <span className="facts__sub">{t('book.range', { range: rangeText })}</span>}
        </p>
      )}
      {e.summary && <p className="entry__summary">{e.summary}</p>}
      {e.status && <p className="entry__status hint">{t('book.status', { status: e.status })}</p>}
      {doc && <p><Link href={doc}>{t('book.openCard')}</Link></p>}
    </li>
  );
}
