import { get, request } from '../api.js';
import {
  announce,
  confirmAction,
  describe,
  empty,
  every,
  failure,
  h,
  heading,
  loading,
  show,
  table,
  time,
} from '../dom.js';

/** How often the list is read again while the page is open. */
const REFRESH_MS = 5000;

/**
 * Deliveries that failed every attempt: who failed on which event and why; replay one once its
 * cause is fixed, and watch the list (the replayed letter leaves it, or comes back if it fails
 * again).
 */
export function renderDeadLetters(main) {
  const showReplayed = h('input', { type: 'checkbox', id: 'show-replayed' });
  const result = h('div', { role: 'alert' });
  const list = h('div', {}, loading('the dead letters'));
  show(
    main,
    heading('Dead letters'),
    h(
      'p',
      { class: 'hint' },
      'Deliveries to a subscriber that failed every attempt. Replay one once what made it fail is fixed: ',
      'it is delivered again with fresh attempts.',
    ),
    h(
      'div',
      { class: 'actions' },
      showReplayed,
      h(
        'label',
        { for: 'show-replayed', style: { display: 'inline', fontWeight: '400' } },
        'Show replayed ones too',
      ),
    ),
    result,
    list,
  );

  async function load() {
    try {
      const letters = await get(
        `/admin/dead-letters${showReplayed.checked ? '?includeReplayed=true' : ''}`,
      );
      show(list, ...view(letters));
    } catch (error) {
      show(list, failure(error, 'the dead letters'));
    }
  }

  function view(letters) {
    if (letters.length === 0) return [empty('No dead letters: every delivery went through.')];
    return [
      table(
        'Dead letters, newest first',
        [
          ['Subscriber', (d) => h('code', {}, d.subscriber)],
          [
            'Event',
            (d) => [
              d.eventType,
              h('br'),
              h('a', { href: `#/orders/${d.streamId}`, class: 'mono' }, d.streamId),
            ],
          ],
          ['Attempts', (d) => d.attempts, 'num'],
          ['Last error', (d) => h('span', { class: 'mono' }, d.lastError)],
          ['Failed', (d) => time(d.failedAt), 'hide-narrow'],
          [
            'Replay',
            (d) =>
              d.replayedAt
                ? ['replayed ', time(d.replayedAt)]
                : h(
                    'button',
                    {
                      type: 'button',
                      'aria-label': `Replay ${d.eventType} to ${d.subscriber}`,
                      onclick: (event) => replay(d, event.currentTarget),
                    },
                    'Replay…',
                  ),
          ],
        ],
        letters,
      ),
    ];
  }

  async function replay(letter, button) {
    const confirmed = await confirmAction({
      title: 'Replay this delivery?',
      text: `${letter.eventType} is delivered to ${letter.subscriber} again, with fresh attempts. Do it once what made it fail is fixed.`,
      confirm: 'Replay',
    });
    if (!confirmed) return;
    button.disabled = true;
    try {
      await request(`/admin/dead-letters/${encodeURIComponent(letter.id)}/replay`, {
        method: 'POST',
      });
      show(
        result,
        h(
          'p',
          { class: 'notice' },
          `${letter.eventType} was handed to ${letter.subscriber} again.`,
        ),
      );
      announce('Replayed');
    } catch (error) {
      show(result, h('p', { class: 'notice error' }, `Could not replay: ${describe(error)}`));
      button.disabled = false;
    }
    await load();
    main.querySelector('h1')?.focus();
  }

  showReplayed.addEventListener('change', () => void load());
  return every(REFRESH_MS, load);
}
