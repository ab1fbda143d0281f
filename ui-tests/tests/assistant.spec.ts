/*
 * The course's model in the editor, through the real stack: carol turns completion and
 * chat on for ml101; alice, a student, opens a notebook and gets ghost text from the
 * course model (Tab inserts it) and a streamed chat answer she inserts as a cell, with no
 * key pasted anywhere; carol sees both uses apart. A revoked key and a spent budget are
 * said in words.
 */
import * as path from 'path';

import type { Page } from '@playwright/test';

import { expect, test } from './fixtures';
import { labAs } from './helpers/admin-page';
import { bridgeApiOf, endpointOf, ok } from './helpers/course-page';

const IMAGES = path.resolve(__dirname, '..', '..', 'docs', 'images');
const COURSE = 'ml101';

const A = {
  status: '.hpcb-AssistantStatus',
  ghost: '.jp-GhostText',
  chat: '.hpcb-ChatPanel',
  input: '.hpcb-ChatPanel-input',
  send: '.hpcb-ChatPanel-send',
  answer: '.hpcb-ChatMessage[data-role="assistant"]',
  question: '.hpcb-ChatMessage[data-role="user"]',
  insert: '.hpcb-ChatMessage-insert',
  error: '.hpcb-ChatPanel-error',
  openChat: 'Open Assistant Chat'
} as const;

interface IStudentUsage {
  student: string;
  tokensUsed: number;
  completionTokens: number;
  chatTokens: number;
}

/** Opens the chat from the command palette, as a user would. */
async function openChat(page: Page): Promise<void> {
  const palette = page.locator('#command-palette');
  // The command is enabled once the lab knows the user's assistant endpoints.
  await expect(page.locator(A.status)).toContainText('tiny-random', {
    timeout: 60_000
  });
  // The modal palette closes when the focus leaves it, and a lab that has just started
  // may still move the focus: open it until it stays open with the command chosen.
  await expect(async () => {
    if (!(await palette.isVisible())) {
      await page.keyboard.press('Control+Shift+C');
    }
    await palette.locator('input').fill(A.openChat, { timeout: 2000 });
    await expect(
      palette.locator('.lm-CommandPalette-item.lm-mod-active')
    ).toContainText(A.openChat, { timeout: 2000 });
  }).toPass({ timeout: 30_000 });
  await page.keyboard.press('Enter');
  await expect(page.locator(A.chat)).toBeVisible();
}

/** Types a question and sends it with Enter (a notification may cover the Send button). */
async function ask(page: Page, question: string): Promise<void> {
  await page.locator(A.input).fill(question);
  await page.locator(A.input).press('Enter');
}

test.describe('The course model in the editor', () => {
  test('a student completes code and chats with the course model; the instructor sees both uses', async ({
    browser,
    page,
    playwright,
    tmpPath
  }) => {
    test.setTimeout(600_000);
    const suffix = String(Date.now());
    const carolPage = await labAs(browser, 'carol');
    const carol = await bridgeApiOf(playwright, carolPage);
    let endpoint: { id: string; created: boolean } | null = null;
    const share = (tokenBudget: number) =>
      ok(
        'share the course endpoint',
        carol.put(`courses/${COURSE}`, {
          data: {
            endpoint: { endpointId: endpoint!.id, tokenBudget },
            assistant: { completion: true, chat: true }
          }
        })
      );
    try {
      endpoint = await endpointOf(carol, suffix);
      await share(20_000);

      // alice: nothing to set up; the status bar names the course model.
      await page.reload();
      const status = page.locator(A.status);
      await expect(status).toContainText('tiny-random', { timeout: 60_000 });
      await page.notebook.createNew(`assistant-${suffix}.ipynb`);
      await page.notebook.setCell(0, 'code', 'import numpy as np\n');
      const editor = (await page.notebook.getCellInputLocator(0))!.locator(
        '.cm-content'
      );
      await editor.click();
      await page.keyboard.press('Control+End');
      await page.keyboard.type('x = np.', { delay: 30 });
      // Ghost text from the model. The demo model's text is random, and sometimes empty
      // (nothing to show): type on until a completion has text.
      const ghost = page.locator(A.ghost);
      await expect(async () => {
        await page.keyboard.type('a');
        await expect(ghost).toBeVisible({ timeout: 15_000 });
      }).toPass({ timeout: 180_000 });
      await page.screenshot({
        path: path.join(IMAGES, 'assistant-completion.png')
      });
      const suggested = (await ghost.textContent()) ?? '';
      expect(suggested.length).toBeGreaterThan(0);
      await page.keyboard.press('Tab');
      await expect(ghost).toHaveCount(0);
      await expect(editor).toContainText(
        (suggested.split('\n')[0] ?? '').trim()
      );

      // The chat streams an answer; it goes into a new cell.
      await openChat(page);
      await ask(page, 'How do I read a CSV file with pandas?');
      const answer = page.locator(A.answer).last();
      await expect(answer).not.toBeEmpty({ timeout: 120_000 });
      // The answer has ended when Send (empty draft: disabled) is back in place of Stop.
      await expect(page.locator(A.send)).toBeVisible({ timeout: 120_000 });
      const cells = await page.notebook.getCellCount();
      await answer.locator(A.insert).click();
      await expect.poll(() => page.notebook.getCellCount()).toBe(cells + 1);
      await page.screenshot({ path: path.join(IMAGES, 'assistant-chat.png') });

      // Explain This Error on an error output: the traceback goes to the chat.
      await page.notebook.addCell('code', '1 / 0');
      const errorCell = (await page.notebook.getCellCount()) - 1;
      await page.notebook.runCell(errorCell);
      const errorOutput = (await page.notebook.getCellLocator(
        errorCell
      ))!.locator(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
      );
      await errorOutput.click({ button: 'right' });
      await page.getByRole('menuitem', { name: 'Explain This Error' }).click();
      const question = page.locator(A.question).last();
      await expect(question).toContainText('Explain this error');
      await expect(question).toContainText('ZeroDivisionError', {
        timeout: 60_000
      });
      await expect(page.locator(A.send)).toBeVisible({ timeout: 120_000 });

      // carol's usage view: completion and chat apart.
      const usage = await ok<{ students: IStudentUsage[] }>(
        'read the usage',
        carol.get(`courses/${COURSE}/usage`)
      );
      const mine = usage.students.find(s => s.student === 'alice');
      expect(mine?.completionTokens).toBeGreaterThan(0);
      expect(mine?.chatTokens).toBeGreaterThan(0);
      expect(mine!.tokensUsed).toBeGreaterThanOrEqual(
        mine!.completionTokens + mine!.chatTokens
      );

      // Revoked by the instructor: said in the chat, not silence.
      await ok(
        "revoke alice's key",
        carol.delete(`courses/${COURSE}/endpoint-keys/alice`)
      );
      await ask(page, 'And with polars?');
      await expect(page.locator(A.error)).toContainText(/revoked/i, {
        timeout: 60_000
      });

      // A spent budget: bob's first key gets what is left of a tiny share.
      await share(10);
      const bobPage = await labAs(browser, 'bob');
      try {
        await openChat(bobPage);
        await ask(bobPage, 'Explain list comprehensions.');
        await expect(bobPage.locator(A.error)).toContainText(/tokens/, {
          timeout: 60_000
        });
        await expect(bobPage.locator(A.answer)).toHaveCount(0);
      } finally {
        await bobPage.context().close();
      }
    } finally {
      await carol.put(`courses/${COURSE}`, {
        data: {
          endpoint: null,
          assistant: { completion: false, chat: false }
        }
      });
      if (endpoint?.created) {
        await carol.delete(`endpoints/${endpoint.id}`);
      }
      await carol.dispose();
      await carolPage.context().close();
    }
  });
});
