'use client';
/**
 * The demo page. Every tab reads the answer from the relay with `@ss/client`, so the tab that
 * asked, a reloaded tab and a second tab behave the same way:
 *
 * 1. "Send" POSTs the prompt to the chosen app's chat route; the answer's stream id comes back in
 *    the `x-stream-id` header and goes into the URL (`?backend=hono&stream=…`).
 * 2. A reader subscribes to that stream. Each chunk is appended to the text and, with its seq, kept
 *    in sessionStorage; after a reload the reader starts at `lastSeq + 1` — no repeat, no gap.
 * 3. "Stop" is `reader.cancel()`: the relay tells the producer, whose source stops, and every tab
 *    sees the stream end as stopped. The app's `onFinish` saves the answer either way.
 */
import { type ReaderStatus, type StreamReader, StreamstraightError, streamstraightClient } from '@ss/client';
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import type { SavedAnswer } from '../src/answers/answer-store';
import { BACKEND_LABELS, BACKENDS, type Backend, type PageConfig, STREAM_ID_HEADER, isBackend } from '../src/page-config';

type Phase = ReaderStatus | 'idle' | 'starting' | 'failed';

interface View {
  text: string;
  /** Chunks shown (lastSeq + 1). */
  chunks: number;
  phase: Phase;
  endReason?: string;
  error?: string;
  /** Set when this page load continued a stream it had partly read before a reload. */
  resumedAt?: number;
  /** The reader finished: every chunk is shown and the end is known (or it failed). */
  done?: boolean;
}

interface LogLine {
  id: number;
  at: string;
  text: string;
}

const EMPTY: View = { text: '', chunks: 0, phase: 'idle' };
const SUGGESTIONS = ['Why do LLM answers need resumable streams?', 'What happens when I reload mid-answer?', 'How does Stop reach the model?'];

/** sessionStorage key of a stream's progress in this tab. */
const progressKey = (streamId: string) => `ss-demo:progress:${streamId}`;
/** sessionStorage key of the prompt this tab asked (other tabs learn it from the saved answer). */
const promptKey = (streamId: string) => `ss-demo:prompt:${streamId}`;

function readProgress(streamId: string): { text: string; lastSeq: number } | undefined {
  try {
    const saved = JSON.parse(sessionStorage.getItem(progressKey(streamId)) ?? 'null') as { text?: unknown; lastSeq?: unknown } | null;
    if (saved && typeof saved.text === 'string' && typeof saved.lastSeq === 'number') return { text: saved.text, lastSeq: saved.lastSeq };
  } catch {
    // unreadable: start from the beginning
  }
  return undefined;
}

function writeProgress(streamId: string, text: string, lastSeq: number): void {
  try {
    sessionStorage.setItem(progressKey(streamId), JSON.stringify({ text, lastSeq }));
  } catch {
    // storage full or disabled: a reload then reads the stream from the start, which is still correct
  }
}

function readPrompt(streamId: string): string | undefined {
  try {
    return sessionStorage.getItem(promptKey(streamId)) ?? undefined;
  } catch {
    return undefined;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

let logLineCount = 0;
let linkIdOfThisPage: string | undefined;

/** This page load's own path to the relay (see src/web/reader-link.ts), so "Drop connection" cuts only this tab. */
function pageLinkId(): string {
  linkIdOfThisPage ??= Math.random().toString(36).slice(2, 12);
  return linkIdOfThisPage;
}

function clock(): string {
  return new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** The props the server component passes. */
export interface ChatAppProps {
  config: PageConfig;
  initialBackend: Backend;
  initialStreamId: string | undefined;
}

/** The whole page. */
export function ChatApp({ config, initialBackend, initialStreamId }: ChatAppProps) {
  const [backend, setBackend] = useState<Backend>(initialBackend);
  const [streamId, setStreamId] = useState<string | undefined>(initialStreamId);
  const [streamBackend, setStreamBackend] = useState<Backend>(initialBackend);
  const [prompt, setPrompt] = useState('');
  const [view, setView] = useState<View>(initialStreamId ? { ...EMPTY, phase: 'connecting' } : EMPTY);
  const [answers, setAnswers] = useState<SavedAnswer[] | undefined>(undefined);
  const [answersError, setAnswersError] = useState<string | undefined>(undefined);
  const [log, setLog] = useState<LogLine[]>([]);
  const [busy, setBusy] = useState(false);
  const [askedPrompt, setAskedPrompt] = useState<string | undefined>(undefined);
  const readerRef = useRef<StreamReader<string> | undefined>(undefined);
  const reloadAnswersRef = useRef<() => void>(() => {});

  const note = useCallback((text: string) => setLog((lines) => [{ id: ++logLineCount, at: clock(), text }, ...lines].slice(0, 6)), []);

  /** Where the page reaches an app: the Next.js app is this origin, the others are on their own ports. */
  const appUrl = useCallback(
    (which: Backend) => (which === 'next' ? window.location.origin : `${window.location.protocol}//${window.location.hostname}:${config.ports[which]}`),
    [config.ports],
  );

  // Back and forward buttons move between streams.
  useEffect(() => {
    const onPopState = () => {
      const params = new URL(window.location.href).searchParams;
      const which = params.get('backend');
      const id = params.get('stream') ?? undefined;
      if (isBackend(which)) {
        setBackend(which);
        setStreamBackend(which);
      }
      setStreamId(id);
      if (!id) setView(EMPTY);
    };
    window.addEventListener('popstate', onPopState);
    return () => window.removeEventListener('popstate', onPopState);
  }, []);

  // Read the stream in the URL from the relay, continuing after what this tab already showed.
  useEffect(() => {
    if (!streamId) return;
    setAskedPrompt(readPrompt(streamId));
    const saved = readProgress(streamId);
    let text = saved?.text ?? '';
    let lastSeq = saved?.lastSeq ?? -1;
    setView({ text, chunks: lastSeq + 1, phase: 'connecting', resumedAt: saved ? lastSeq + 1 : undefined });
    if (saved) note(`Page reloaded: continuing at chunk ${lastSeq + 1}`);
    const controller = new AbortController();
    // Where the current connection started reading, fixed before its first chunk arrives: by the time
    // the status turns live, the handshake may already have delivered chunks (and moved lastSeq).
    let readingFrom = lastSeq + 1;
    const tokenUrl = `${appUrl(streamBackend)}/api/token`;
    const reader = streamstraightClient<string>(
      {
        baseUrl: `${window.location.origin}/relay/link/${pageLinkId()}`,
        fetchToken: async () => {
          const response = await fetch(tokenUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ streamId }),
          });
          if (response.ok) return ((await response.json()) as { token: string }).token;
          const body = (await response.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
          const message = body?.error?.message ?? `The token route answered ${response.status}.`;
          // Refused (403) or malformed (400): stop reading. Anything else (the app restarting) is retried.
          if (response.status === 403) throw new StreamstraightError('FORBIDDEN', message);
          if (response.status === 400) throw new StreamstraightError('BAD_REQUEST', message);
          throw new Error(message);
        },
        retryMaxMs: 3000,
      },
      {
        streamId,
        fromSeq: lastSeq + 1,
        waitForStreamMs: 15_000,
        signal: controller.signal,
        onStatus: (status, current) => {
          if (controller.signal.aborted) return;
          setView((shown) => ({ ...shown, phase: status, endReason: current.endReason ?? shown.endReason }));
          if (status === 'live') note(readingFrom > 0 ? `Connected — reading from chunk ${readingFrom}` : 'Connected');
          if (status === 'resuming') {
            readingFrom = current.lastSeq + 1;
            note('Connection lost — resuming');
          }
        },
      },
    );
    readerRef.current = reader;
    void (async () => {
      try {
        for await (const token of reader) {
          text += token;
          lastSeq = reader.lastSeq;
          writeProgress(streamId, text, lastSeq);
          setView((current) => ({ ...current, text, chunks: lastSeq + 1 }));
        }
        const endReason = reader.endReason ?? 'completed';
        setView((current) => ({ ...current, phase: 'ended', endReason, done: true }));
        note(endReason === 'cancelled' ? 'Stream ended: stopped' : `Stream ended: ${endReason}`);
      } catch (error) {
        if (controller.signal.aborted) return;
        setView((current) => ({ ...current, phase: 'failed', endReason: reader.endReason, error: messageOf(error), done: true }));
        note(`Stream failed: ${messageOf(error)}`);
      }
      reloadAnswersRef.current();
    })();
    return () => {
      controller.abort();
      if (readerRef.current === reader) readerRef.current = undefined;
    };
  }, [streamId, streamBackend, appUrl, note]);

  // The chosen app's saved answers (what its onFinish wrote), refreshed every two seconds.
  useEffect(() => {
    let cancelled = false;
    const load = async () => {
      try {
        const response = await fetch(`${appUrl(backend)}/api/answers`, { cache: 'no-store' });
        if (!response.ok) throw new Error(`answered ${response.status}`);
        const body = (await response.json()) as { answers: SavedAnswer[] };
        if (!cancelled) {
          setAnswers(body.answers);
          setAnswersError(undefined);
        }
      } catch (error) {
        if (!cancelled) setAnswersError(`Could not reach the ${BACKEND_LABELS[backend]} app: ${messageOf(error)}`);
      }
    };
    reloadAnswersRef.current = () => void load();
    void load();
    const timer = setInterval(load, 2000);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [backend, appUrl]);

  const showStream = (which: Backend, id: string | undefined) => {
    const url = new URL(window.location.href);
    url.searchParams.set('backend', which);
    if (id) url.searchParams.set('stream', id);
    else url.searchParams.delete('stream');
    window.history.pushState(null, '', url);
    setStreamBackend(which);
    setStreamId(id);
    setLog([]);
    if (!id) setView(EMPTY);
  };

  const chooseBackend = (which: Backend) => {
    setBackend(which);
    setAnswers(undefined);
    if (which !== streamBackend) showStream(which, undefined);
  };

  const send = async (event?: FormEvent, text = prompt) => {
    event?.preventDefault();
    const question = text.trim();
    if (question === '' || busy) return;
    setBusy(true);
    setView({ ...EMPTY, phase: 'starting' });
    try {
      const response = await fetch(`${appUrl(backend)}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: question }),
      });
      if (!response.ok) throw new Error(`The ${BACKEND_LABELS[backend]} app answered ${response.status}: ${await response.text()}`);
      const id = response.headers.get(STREAM_ID_HEADER);
      if (!id) throw new Error(`The ${BACKEND_LABELS[backend]} app sent no ${STREAM_ID_HEADER} header.`);
      // Every tab reads from the relay; the app streams on without this response (the adapter's promise).
      void response.body?.cancel().catch(() => {});
      try {
        sessionStorage.setItem(promptKey(id), question);
      } catch {
        // no storage: the prompt shows once the answer is saved
      }
      setPrompt('');
      showStream(backend, id);
      note(`Asked the ${BACKEND_LABELS[backend]} app — stream ${id}`);
    } catch (error) {
      setView({ ...EMPTY, phase: 'failed', error: messageOf(error) });
    } finally {
      setBusy(false);
    }
  };

  const stop = async () => {
    const reader = readerRef.current;
    if (!reader) return;
    note(`Stop pressed at chunk ${reader.lastSeq + 1} — asking the producer to stop`);
    try {
      await reader.cancel('Stopped from the page');
    } catch (error) {
      note(`Stop failed: ${messageOf(error)}`);
    }
  };

  const dropConnection = async () => {
    try {
      const response = await fetch(`/relay/link/${pageLinkId()}/drop`, { method: 'POST' });
      const { dropped } = (await response.json()) as { dropped: number };
      note(dropped > 0 ? 'Connection cut (this tab’s socket to the relay)' : 'No open connection to cut');
    } catch (error) {
      note(`Could not cut the connection: ${messageOf(error)}`);
    }
  };

  const running = view.phase === 'connecting' || view.phase === 'live' || view.phase === 'resuming';
  const stopped = view.endReason === 'cancelled';
  const statusText = statusLabel(view);
  const shareUrl = streamId ? `?backend=${streamBackend}&stream=${encodeURIComponent(streamId)}` : undefined;
  const question = askedPrompt ?? answers?.find((answer) => answer.streamId === streamId)?.prompt;

  return (
    <main className="shell">
      <header className="top">
        <div className="brand">
          <span className="mark" aria-hidden="true" />
          <div>
            <h1>Streamstraight</h1>
            <p className="tagline">Resumable LLM streams, self-hosted</p>
          </div>
        </div>
        <span className="model" title="The model answering">
          {config.model}
        </span>
        <a className="top-link" href="/ai" data-testid="ai-page-link">
          The AI SDK page: useChat that resumes →
        </a>
      </header>

      <section className="card composer" aria-label="Ask">
        <fieldset className="backends">
          <legend className="visually-hidden">App server</legend>
          {BACKENDS.map((which) => (
            <button
              key={which}
              type="button"
              aria-pressed={backend === which}
              data-testid={`backend-${which}`}
              className={backend === which ? 'backend chosen' : 'backend'}
              onClick={() => chooseBackend(which)}
            >
              {BACKEND_LABELS[which]}
              <small>:{config.ports[which]}</small>
            </button>
          ))}
        </fieldset>
        <form onSubmit={send} className="ask">
          <textarea
            data-testid="prompt"
            value={prompt}
            onChange={(event) => setPrompt(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter' && !event.shiftKey) void send(event);
            }}
            placeholder={`Ask the ${BACKEND_LABELS[backend]} app anything…`}
            rows={2}
            aria-label="Prompt"
          />
          <button type="submit" className="primary" data-testid="send" disabled={busy || prompt.trim() === ''}>
            {busy ? 'Sending…' : 'Send'}
          </button>
        </form>
        {view.phase === 'idle' && (
          <div className="suggestions">
            {SUGGESTIONS.map((suggestion) => (
              <button key={suggestion} type="button" className="chip" onClick={() => void send(undefined, suggestion)}>
                {suggestion}
              </button>
            ))}
          </div>
        )}
      </section>

      {view.phase !== 'idle' && (
        <section className="card answer-card" aria-label="Answer" data-testid="answer-card">
          <div className="answer-head">
            <span className="stream-id" title="Stream id (also in the URL)">
              {streamId ?? 'new stream'}
            </span>
            {shareUrl && (
              <a href={shareUrl} target="_blank" rel="noopener" className="link" data-testid="open-tab">
                Open in another tab ↗
              </a>
            )}
          </div>
          <div className="status-row">
            <span
              className={`status ${statusClass(view)}`}
              data-testid="status"
              data-phase={view.phase}
              data-end-reason={view.endReason ?? ''}
              data-done={view.done ? 'true' : 'false'}
              role="status"
            >
              <span className="dot" aria-hidden="true" />
              {statusText}
            </span>
            <span className="count" data-testid="chunks" data-chunks={view.chunks}>
              {view.chunks} {view.chunks === 1 ? 'chunk' : 'chunks'}
            </span>
            <span className="actions">
              <button type="button" className="ghost" data-testid="drop" onClick={dropConnection} disabled={!running}>
                Drop connection
              </button>
              <button type="button" className="danger" data-testid="stop" onClick={stop} disabled={!running}>
                Stop
              </button>
            </span>
          </div>
          {question && (
            <p className="question" data-testid="question">
              {question}
            </p>
          )}
          {view.resumedAt !== undefined && view.resumedAt > 0 && (
            <p className="resumed" data-testid="resumed">
              Reloaded — continued at chunk {view.resumedAt}, nothing repeated, nothing skipped.
            </p>
          )}
          <div className={running ? 'answer live' : 'answer'} aria-live="polite">
            <span data-testid="answer">{view.text}</span>
            {running && <span className="caret" aria-hidden="true" />}
            {view.text === '' && !running && view.phase !== 'failed' && <span className="muted">Waiting for the first token…</span>}
          </div>
          {view.error && (
            <p className="error" data-testid="error">
              {view.error}
            </p>
          )}
          {stopped && <p className="note">Stopped through the relay: the model stopped, and every tab on this stream shows it.</p>}
          {log.length > 0 && (
            <ol className="log" aria-label="What happened">
              {log.map((line) => (
                <li key={line.id}>
                  <time>{line.at}</time> {line.text}
                </li>
              ))}
            </ol>
          )}
        </section>
      )}

      <section className="card saved" aria-label="Saved answers">
        <div className="saved-head">
          <h2>Saved by the {BACKEND_LABELS[backend]} app</h2>
          <span className="muted">its onFinish, once per answer — even when no tab was watching</span>
        </div>
        {answersError && <p className="error">{answersError}</p>}
        {answers === undefined && !answersError && <p className="muted">Loading…</p>}
        {answers?.length === 0 && <p className="muted">Nothing saved yet.</p>}
        <ul className="saved-list" data-testid="saved-list">
          {answers?.map((answer) => (
            <li
              key={answer.id}
              data-testid="saved-answer"
              data-stream-id={answer.streamId}
              data-status={answer.status}
              className={answer.streamId === streamId ? 'current' : undefined}
            >
              <div className="saved-line">
                <span className={`badge ${answer.status}`}>{answer.status}</span>
                <strong className="saved-prompt">{answer.prompt}</strong>
              </div>
              <p className="saved-text">{answer.text || '(no text)'}</p>
              <p className="saved-meta">
                {answer.chunks} chunks · {new Date(answer.savedAt).toLocaleTimeString()} ·{' '}
                <a href={`?backend=${answer.backend}&stream=${encodeURIComponent(answer.streamId)}`}>{answer.streamId}</a>
              </p>
            </li>
          ))}
        </ul>
      </section>

      <footer className="help">
        <p>
          <strong>Try it:</strong> reload mid-answer — it picks up at the next chunk. Open the link in a second tab — it follows live. Close every tab — the
          answer still finishes and is saved once. <em>Drop connection</em> really cuts this tab’s socket; <em>Stop</em> cancels the model through the relay.
        </p>
      </footer>
    </main>
  );
}

function statusLabel(view: View): string {
  switch (view.phase) {
    case 'idle':
      return 'idle';
    case 'starting':
      return 'starting…';
    case 'connecting':
      return 'connecting…';
    case 'live':
      return 'connected';
    case 'resuming':
      return 'resuming…';
    case 'ended':
    case 'closed':
      return view.endReason === 'cancelled' ? 'ended · stopped' : `ended · ${view.endReason ?? 'closed'}`;
    case 'failed':
      return view.endReason ? `ended · ${view.endReason}` : 'failed';
  }
}

function statusClass(view: View): string {
  if (view.phase === 'live') return 'ok';
  if (view.phase === 'resuming' || view.phase === 'connecting' || view.phase === 'starting') return 'wait';
  if (view.phase === 'failed') return 'bad';
  if (view.endReason === 'cancelled') return 'stopped';
  return 'done';
}
