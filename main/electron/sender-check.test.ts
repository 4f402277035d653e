import { describe, expect, it } from 'vitest';
import { checkIpcSender, isRendererUrl, type IpcSenderInfo, type TrustedRenderer } from './sender-check';

const rendererUrl = 'file:///opt/MigrateKit%20Console/resources/app.asar/dist/renderer/index.html';
const trusted: TrustedRenderer = { webContentsId: 7, mainFrame: { processId: 4, routingId: 1 }, rendererUrl };
const good: IpcSenderInfo = { webContentsId: 7, frame: { url: rendererUrl, isMainFrame: true, processId: 4, routingId: 1 } };
const withFrame = (patch: Partial<NonNullable<IpcSenderInfo['frame']>>): IpcSenderInfo => ({ ...good, frame: { ...good.frame!, ...patch } });

describe('isRendererUrl', () => {
  it('accepts the renderer page, with any hash and either encoding of the path', () => {
    expect(isRendererUrl(rendererUrl, rendererUrl)).toBe(true);
    expect(isRendererUrl(`${rendererUrl}#/vms/ctx-1`, rendererUrl)).toBe(true);
    expect(isRendererUrl('file:///opt/MigrateKit Console/resources/app.asar/dist/renderer/index.html', rendererUrl)).toBe(true);
  });

  it('rejects other pages, schemes, hosts and queries', () => {
    for (const url of [
      'file:///opt/MigrateKit%20Console/resources/app.asar/dist/renderer/other.html',
      'file:///tmp/index.html',
      'file://evil.example/opt/MigrateKit%20Console/resources/app.asar/dist/renderer/index.html',
      'https://example.invalid/dist/renderer/index.html',
      'http://127.0.0.1:5173/',
      `${rendererUrl}?x=1`,
      'about:blank',
      'not a url',
      '',
    ]) {
      expect(isRendererUrl(url, rendererUrl), url).toBe(false);
    }
  });
});

describe('checkIpcSender', () => {
  it('trusts the main frame of our window on the renderer page', () => {
    expect(checkIpcSender(good, trusted)).toEqual({ trusted: true });
  });

  it.each([
    ['no window', good, null, /no console window/],
    ['another webContents', { ...good, webContentsId: 8 }, trusted, /not come from the console window/],
    ['a destroyed frame', { ...good, frame: null }, trusted, /no longer exists/],
    ['a subframe', withFrame({ isMainFrame: false }), trusted, /subframe/],
    ['another frame of the same contents', withFrame({ routingId: 9 }), trusted, /main frame/],
    ['another process', withFrame({ processId: 5 }), trusted, /main frame/],
    ['another page', withFrame({ url: 'file:///tmp/evil.html' }), trusted, /not the console renderer/],
  ] as const)('refuses %s', (_name, sender, t, reason) => {
    const v = checkIpcSender(sender, t);
    expect(v.trusted).toBe(false);
    if (!v.trusted) expect(v.reason).toMatch(reason);
  });
});
