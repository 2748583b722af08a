import type { IncomingMessage } from 'node:http';
import { isNavigation } from '../../lib/express/respond';

const req = (method: string, headers: Record<string, string>) => ({ method, headers }) as unknown as IncomingMessage;
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('isNavigation', () => {
  it.each([
    ['GET', { accept: BROWSER }, true],
    ['HEAD', { accept: BROWSER }, true],
    ['GET', { 'sec-fetch-mode': 'navigate' }, true],
    ['GET', { 'sec-fetch-mode': 'navigate', accept: 'application/json' }, true],
    ['GET', { 'sec-fetch-mode': 'cors', accept: BROWSER }, false],
    ['GET', { accept: 'application/json' }, false],
    ['GET', { accept: 'application/json, text/html' }, false],
    ['GET', { accept: 'text/html, application/json' }, true],
    ['GET', { accept: BROWSER, 'x-requested-with': 'XMLHttpRequest' }, false],
    ['GET', {}, false],
    ['GET', { accept: '*/*' }, false],
    ['POST', { accept: BROWSER }, false],
    ['POST', { 'sec-fetch-mode': 'navigate' }, false],
  ] as const)('%s %j -> %s', (method, headers, expected) => {
    expect(isNavigation(req(method, headers))).toBe(expected);
  });
});
