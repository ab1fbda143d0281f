import { SseFrames } from '../integration/sse-frames';

describe('SseFrames (the event-stream reader of the stack tests and benches)', () => {
  it('returns frames as their blank line arrives, whatever the chunks', () => {
    const text =
      ': keep-alive\n\nid: 7\nevent: job\ndata: {"a":1}\n\nevent: kernel\ndata: one\ndata: two\n\n';
    const frames = new SseFrames();
    const got = [];
    for (let i = 0; i < text.length; i += 3) {
      got.push(...frames.feed(text.slice(i, i + 3)));
    }
    expect(got).toEqual([
      { data: '' },
      { id: '7', event: 'job', data: '{"a":1}' },
      { event: 'kernel', data: 'one\ntwo' }
    ]);
  });

  it('keeps a frame that has not ended for the next chunk', () => {
    const frames = new SseFrames();
    expect(frames.feed('event: job\ndata: {')).toEqual([]);
    expect(frames.feed('}\n\n')).toEqual([{ event: 'job', data: '{}' }]);
  });
});
