// Pure: decides whether an IPC message comes from our own renderer. Kept free of electron so it is
// unit tested with plain data.

export interface SenderFrameInfo {
  url: string;
  isMainFrame: boolean;
  processId: number;
  routingId: number;
}

export interface IpcSenderInfo {
  webContentsId: number;
  /** null when the frame is gone (navigated away or destroyed) by the time the message is handled. */
  frame: SenderFrameInfo | null;
}

/** What our window looks like right now; null while there is no window. */
export interface TrustedRenderer {
  webContentsId: number;
  mainFrame: { processId: number; routingId: number };
  rendererUrl: string;
}

export type SenderVerdict = { trusted: true } | { trusted: false; reason: string };

/**
 * True when `url` is the renderer's file:// page. The hash is ignored (client-side routing); the
 * path is compared decoded so percent-encoding differences (spaces in install paths) do not matter.
 */
export function isRendererUrl(url: string, rendererUrl: string): boolean {
  let a: URL;
  let b: URL;
  try {
    a = new URL(url);
    b = new URL(rendererUrl);
  } catch {
    return false;
  }
  if (a.protocol !== 'file:' || b.protocol !== 'file:') return false;
  if (a.host !== b.host || a.search !== b.search) return false;
  try {
    return decodeURIComponent(a.pathname) === decodeURIComponent(b.pathname);
  } catch {
    return false;
  }
}

export function checkIpcSender(sender: IpcSenderInfo, trusted: TrustedRenderer | null): SenderVerdict {
  if (trusted === null) return { trusted: false, reason: 'no console window is open' };
  if (sender.webContentsId !== trusted.webContentsId) return { trusted: false, reason: 'the message does not come from the console window' };
  const frame = sender.frame;
  if (frame === null) return { trusted: false, reason: 'the sending frame no longer exists' };
  if (!frame.isMainFrame) return { trusted: false, reason: 'the message comes from a subframe' };
  if (frame.processId !== trusted.mainFrame.processId || frame.routingId !== trusted.mainFrame.routingId) {
    return { trusted: false, reason: "the message does not come from the window's main frame" };
  }
  if (!isRendererUrl(frame.url, trusted.rendererUrl)) return { trusted: false, reason: 'the sending page is not the console renderer' };
  return { trusted: true };
}
