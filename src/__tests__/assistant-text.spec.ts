/**
 * @jest-environment node
 */
import { AssistantError } from '../assistant/api';
import { AssistantStatus } from '../assistant/status';
import { AssistantText } from '../assistant/text';
import { assistantEndpoint } from './assistant-fakes';
import { identityTrans } from './helpers';

describe('AssistantText.completionPrompt', () => {
  const source = {
    cellsBefore: ['import numpy as np', '', 'x = np.arange(10)', 'y = x * 2'],
    text: 'def f(a):\n    return a',
    cursor: 'def f(a):\n    ret'.length,
    contextCells: 2,
    mimeType: 'text/x-ipython'
  };

  it('puts the last cells before and the cell up to the cursor in the prefix, the rest in the suffix', () => {
    expect(AssistantText.completionPrompt(source)).toEqual({
      prefix: 'x = np.arange(10)\n\ny = x * 2\n\ndef f(a):\n    ret',
      suffix: 'urn a',
      language: 'python'
    });
  });

  it('uses no cells before with contextCells 0 and skips empty cells', () => {
    expect(
      AssistantText.completionPrompt({ ...source, contextCells: 0 }).prefix
    ).toBe('def f(a):\n    ret');
    expect(
      AssistantText.completionPrompt({ ...source, contextCells: 3 }).prefix
    ).toBe('x = np.arange(10)\n\ny = x * 2\n\ndef f(a):\n    ret');
  });

  it('bounds the prefix to its end and the suffix to its start', () => {
    const long = 'a'.repeat(20_000);
    const prompt = AssistantText.completionPrompt({
      cellsBefore: [long],
      text: `${long}|${long}`,
      cursor: long.length + 1,
      contextCells: 5
    });
    expect(prompt.prefix).toHaveLength(AssistantText.MAX_PREFIX_CHARS);
    expect(prompt.prefix.endsWith('a|')).toBe(true);
    expect(prompt.suffix).toHaveLength(AssistantText.MAX_SUFFIX_CHARS);
    expect(prompt).not.toHaveProperty('language');
  });

  it('names the language of a mime type', () => {
    expect(AssistantText.languageOf('text/x-python')).toBe('python');
    expect(AssistantText.languageOf('text/x-rsrc')).toBe('r');
    expect(AssistantText.languageOf('text/x-julia')).toBe('julia');
    expect(AssistantText.languageOf(undefined)).toBeUndefined();
  });
});

describe('AssistantText: chat', () => {
  it('inserts the first code block of an answer, else the answer as markdown', () => {
    const answer =
      'Use a list comprehension:\n\n```python\nsquares = [x * x for x in xs]\n```\n\nor map:\n\n```python\nmap(f, xs)\n```';
    expect(AssistantText.cellOf(answer)).toEqual({
      type: 'code',
      source: 'squares = [x * x for x in xs]'
    });
    expect(AssistantText.cellOf('Just *words*.')).toEqual({
      type: 'markdown',
      source: 'Just *words*.'
    });
  });

  it('takes the code of a block cut off by Stop', () => {
    expect(AssistantText.firstCodeBlock('Try:\n```py\nimport os\nos.li')).toBe(
      'import os\nos.li'
    );
  });

  it('sends the cell and its traceback without colours as the error context', () => {
    const traceback =
      '\u001b[0;31mZeroDivisionError\u001b[0m: division by zero';
    expect(AssistantText.errorContext('1/0', traceback)).toBe(
      '```python\n1/0\n```\n\n```\nZeroDivisionError: division by zero\n```'
    );
  });

  it('fences code cells of the context and keeps markdown as is', () => {
    expect(
      AssistantText.cellsContext([
        { type: 'markdown', source: '# Data' },
        { type: 'code', source: 'df.head()' }
      ])
    ).toBe('# Data\n\n```python\ndf.head()\n```');
  });

  it('titles a conversation by its first line', () => {
    expect(AssistantText.titleOf('  Why?\nBecause.')).toBe('Why?');
    expect(AssistantText.titleOf('x'.repeat(80))).toHaveLength(60);
  });
});

describe('AssistantStatus', () => {
  const trans = identityTrans();

  it('shows the model and the tokens left', () => {
    expect(AssistantStatus.text(assistantEndpoint(), null, trans)).toBe(
      '✦ tiny-random · 1,234 tokens left'
    );
    expect(
      AssistantStatus.text(assistantEndpoint({ tokensLeft: 1 }), null, trans)
    ).toBe('✦ tiny-random · 1 token left');
    expect(
      AssistantStatus.text(assistantEndpoint({ tokensLeft: null }), null, trans)
    ).toBe('✦ tiny-random · no budget');
  });

  it('says when the assistant is unavailable, and why in the tooltip', () => {
    const endpoint = assistantEndpoint({ course: 'ml101', source: 'course' });
    expect(AssistantStatus.text(endpoint, 'The key was revoked.', trans)).toBe(
      '✦ tiny-random · unavailable'
    );
    expect(
      AssistantStatus.title(endpoint, 'The key was revoked.', trans)
    ).toContain('Assistant: my-llm (course ml101)\nThe key was revoked.');
  });

  it('puts a spent budget and a revoked key in words', () => {
    expect(
      AssistantStatus.errorText(
        new AssistantError('quota', 429, 'insufficient_quota'),
        trans
      )
    ).toBe('Your token budget for the assistant is spent (quota).');
    expect(
      AssistantStatus.errorText(
        new AssistantError('bad key', 401, 'invalid_api_key'),
        trans
      )
    ).toBe("The assistant's key was revoked or is no longer valid (bad key).");
    expect(
      AssistantStatus.errorText(new AssistantError('boom', 500, null), trans)
    ).toBe('boom');
  });
});
