'use client';
/**
 * The AI SDK page: the AI SDK's own `useChat`, with `StreamstraightChatTransport` instead of the
 * default transport. That is the whole integration:
 *
 * - `resume: true`: on load, `useChat` asks `GET /api/ai-chat/<chatId>/stream`; when an answer is
 *   being written, the transport reads it from the relay (from its first chunk: the message is
 *   replayed whole, tool call included) — a reload or a second tab shows the same answer.
 * - the POST's response is the answer itself; if it breaks mid-answer (**Cut the response** really
 *   destroys its socket), the transport continues from the relay at the next chunk, and `useChat`
 *   never sees an error.
 * - `cancelOnStop`: **Stop** also cancels the answer at the relay, which aborts the model call.
 */
import { useChat } from '@ai-sdk/react';
import { StreamstraightChatTransport } from '@ss/ai';
import type { UIMessage } from 'ai';
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { AI_RESPONSES_PREFIX, DEMO_TAB_HEADER, newTabId } from '../../src/web/demo-tab';

/** What the page exposes to tests and to the curious (`window.__aiChat` in the console). */
export interface AiChatSnapshot {
  chatId: string;
  status: string;
  messages: UIMessage[];
  error: string | undefined;
}

declare global {
  interface Window {
    __aiChat?: AiChatSnapshot;
  }
}

const SUGGESTIONS = ['What is the weather in Lyon?', 'Why do LLM answers need resumable streams?', 'What happens when the response breaks mid-answer?'];

interface AiChatPageProps {
  chatId: string;
  /** The chat's messages as the app saved them. */
  initialMessages: UIMessage[];
  /** The model's display name. */
  model: string;
}

/** The page: the header, then the chat once this page runs in the browser (the transport needs `window`). */
export function AiChatPage({ chatId, initialMessages, model }: AiChatPageProps) {
  const [inBrowser, setInBrowser] = useState(false);
  useEffect(() => setInBrowser(true), []);
  return (
    <main className="shell">
      <header className="top">
        <div className="brand">
          <span className="mark" aria-hidden="true" />
          <div>
            <h1>useChat that resumes</h1>
            <p className="tagline">
              The Vercel AI SDK + <code>StreamstraightChatTransport</code> · <a href="/">the plain page</a>
            </p>
          </div>
        </div>
        <span className="model" title="The model answering">
          {model}
        </span>
      </header>
      {inBrowser ? <AiChat chatId={chatId} initialMessages={initialMessages} /> : <Transcript messages={initialMessages} />}
      <footer className="help">
        <p>
          <strong>Try it:</strong> ask about the weather (a tool call), then reload mid-answer — the answer comes back whole, tool call included. Open the
          link in a second tab. <em>Cut the response</em> destroys the answer’s HTTP connection: the transport continues from the relay, nothing repeated.{' '}
          <em>Stop</em> cancels the model call through the relay.
        </p>
      </footer>
    </main>
  );
}

function AiChat({ chatId, initialMessages }: { chatId: string; initialMessages: UIMessage[] }) {
  const [tabId] = useState(newTabId);
  const [transport] = useState(
    () =>
      new StreamstraightChatTransport({
        api: '/api/ai-chat',
        cancelOnStop: true,
        // Demo only: read the relay through this web server (a phone on the LAN reaches it too).
        relayUrl: `${window.location.origin}/relay/link/${tabId}`,
        headers: { [DEMO_TAB_HEADER]: tabId },
        reader: { retryMaxMs: 3000 },
      }),
  );
  useEffect(() => () => transport.close(), [transport]);
  const { messages, sendMessage, status, error, stop } = useChat({ id: chatId, messages: initialMessages, resume: true, transport });
  const [prompt, setPrompt] = useState('');
  const [notes, setNotes] = useState<string[]>([]);
  const sent = useRef(false);
  const note = useCallback((text: string) => setNotes((shown) => [text, ...shown].slice(0, 5)), []);

  const busy = status === 'submitted' || status === 'streaming';
  useEffect(() => {
    window.__aiChat = { chatId, status, messages, error: error?.message };
  }, [chatId, status, messages, error]);
  useEffect(() => {
    if (busy && !sent.current) note('Resumed the answer being written: replayed from the relay, then live.');
  }, [busy, note]);

  const send = (event?: FormEvent, text = prompt) => {
    event?.preventDefault();
    const question = text.trim();
    if (question === '' || busy) return;
    sent.current = true;
    setPrompt('');
    void sendMessage({ text: question });
  };

  const cutResponse = async () => {
    try {
      const response = await fetch(`${AI_RESPONSES_PREFIX}${tabId}/cut`, { method: 'POST' });
      const { cut } = (await response.json()) as { cut: number };
      note(cut > 0 ? 'Response cut (its TCP connection destroyed): the transport continues from the relay.' : 'No response of this tab to cut.');
    } catch (failure) {
      note(`Could not cut the response: ${failure instanceof Error ? failure.message : String(failure)}`);
    }
  };

  return (
    <>
      <section className="card answer-card" aria-label="Chat" data-testid="ai-chat">
        <div className="answer-head">
          <span className="stream-id" title="The chat id (also in the URL)">
            chat {chatId}
          </span>
          <span className="actions">
            <a href={`/ai?chat=${chatId}`} target="_blank" rel="noopener" className="link" data-testid="ai-open-tab">
              Open in another tab ↗
            </a>
            <a href="/ai" className="link" data-testid="ai-new-chat">
              New chat
            </a>
          </span>
        </div>
        <div className="status-row">
          <span className={`status ${busy ? 'ok' : status === 'error' ? 'bad' : 'done'}`} data-testid="ai-status" data-status={status} role="status">
            <span className="dot" aria-hidden="true" />
            {status}
          </span>
          <span className="actions">
            <button type="button" className="ghost" data-testid="ai-cut" onClick={cutResponse} disabled={!busy}>
              Cut the response
            </button>
            <button type="button" className="danger" data-testid="ai-stop" onClick={() => void stop()} disabled={!busy}>
              Stop
            </button>
          </span>
        </div>
        <Transcript messages={messages} />
        {error && (
          <p className="error" data-testid="ai-error">
            {error.message}
          </p>
        )}
        {notes.length > 0 && (
          <ol className="log" aria-label="What happened">
            {notes.map((text, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a short log, newest first, never reordered
              <li key={index}>{text}</li>
            ))}
          </ol>
        )}
      </section>
      <section className="card composer" aria-label="Ask">
        <form onSubmit={send} className="ask">
          <textarea
            data-testid="ai-prompt"
            value={prompt}
            onChange={(event) => setPrompt(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter' && !event.shiftKey) send(event);
            }}
            placeholder="Ask anything — mention the weather for a tool call…"
            rows={2}
            aria-label="Prompt"
          />
          <button type="submit" className="primary" data-testid="ai-send" disabled={busy || prompt.trim() === ''}>
            Send
          </button>
        </form>
        {messages.length === 0 && (
          <div className="suggestions">
            {SUGGESTIONS.map((suggestion) => (
              <button key={suggestion} type="button" className="chip" onClick={() => send(undefined, suggestion)}>
                {suggestion}
              </button>
            ))}
          </div>
        )}
      </section>
    </>
  );
}

/** The messages, part by part: text, and the weather tool's call and result. */
function Transcript({ messages }: { messages: UIMessage[] }) {
  if (messages.length === 0) return <p className="muted">No message yet.</p>;
  return (
    <ol className="ai-messages">
      {messages.map((message) => (
        <li key={message.id} className={`ai-message ${message.role}`} data-testid="ai-message" data-role={message.role}>
          {message.parts.map((part, index) => {
            const key = `${message.id}-${index}`;
            if (part.type === 'text') {
              return (
                <p key={key} className="ai-text">
                  {part.text}
                </p>
              );
            }
            if (part.type === 'tool-weather') return <WeatherCall key={key} part={part as WeatherPart} />;
            return null;
          })}
        </li>
      ))}
    </ol>
  );
}

interface WeatherPart {
  type: 'tool-weather';
  toolCallId: string;
  state: string;
  input?: { city?: string };
  output?: { city: string; forecast: string; celsius: number };
  errorText?: string;
}

function WeatherCall({ part }: { part: WeatherPart }) {
  const city = part.input?.city ?? '…';
  return (
    <div className="tool-call" data-testid="ai-tool-weather" data-state={part.state}>
      <span className="tool-name">weather({JSON.stringify(city)})</span>
      {part.state === 'output-available' && part.output ? (
        <span className="tool-result">
          {part.output.city}: {part.output.forecast}, {part.output.celsius} °C
        </span>
      ) : part.state === 'output-error' ? (
        <span className="tool-result error">{part.errorText}</span>
      ) : (
        <span className="tool-result muted">looking it up…</span>
      )}
    </div>
  );
}
