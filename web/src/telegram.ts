// Telegram's client, through the Mini Apps SDK (@tma.js/sdk-react). Outside Telegram (the demo
// in a desktop browser) the same calls drive in-page stand-ins: a bottom button and a back
// arrow, so every screen works in both places.
import {
  backButton,
  closingBehavior,
  hapticFeedback,
  init,
  invoice,
  isTMA,
  mainButton,
  miniApp,
  requestContact,
  retrieveLaunchParams,
  retrieveRawInitData,
  swipeBehavior,
  themeParams,
  viewport,
} from '@tma.js/sdk-react';

export interface Launch {
  inTelegram: boolean;
  /** Raw initData to send as `Authorization: tma …`; empty outside Telegram. */
  initData: string;
  startParam: string | null;
  languageCode: string | null;
}

let inTelegram = false;

function attempt(f: () => unknown): void {
  try {
    f();
  } catch {
    // An older client without the method: the feature is simply absent.
  }
}

export function launch(): Launch {
  const fromUrl = new URLSearchParams(location.search).get('startapp');
  if (!isTMA()) {
    return { inTelegram: false, initData: '', startParam: fromUrl, languageCode: navigator.language };
  }
  inTelegram = true;
  init();
  const lp = retrieveLaunchParams();
  const data = lp.tgWebAppData as { user?: { language_code?: string } } | undefined;
  attempt(() => backButton.mount());
  attempt(() => mainButton.mount());
  attempt(() => closingBehavior.mount());
  attempt(() => swipeBehavior.mount());
  attempt(() => swipeBehavior.disableVertical());
  attempt(() => {
    themeParams.mount();
    themeParams.bindCssVars();
  });
  attempt(() => {
    miniApp.mount();
    miniApp.bindCssVars();
  });
  attempt(() => {
    void viewport
      .mount()
      .then(() => {
        viewport.bindCssVars();
        viewport.expand();
      })
      .catch(() => undefined);
  });
  attempt(() => miniApp.ready());
  return {
    inTelegram: true,
    initData: retrieveRawInitData() ?? '',
    startParam: (lp.tgWebAppStartParam as string | undefined) ?? fromUrl,
    languageCode: data?.user?.language_code ?? null,
  };
}

export function isTelegram(): boolean {
  return inTelegram;
}

/** The primary action: Telegram's MainButton inside Telegram, an in-page button outside. */
export interface MainAction {
  text: string;
  onClick: () => void;
  loading?: boolean;
  enabled?: boolean;
}

type Listener = (a: MainAction | null) => void;
let fallbackListener: Listener = () => undefined;
let offMain: (() => void) | null = null;

export function onFallbackMainAction(l: Listener): void {
  fallbackListener = l;
}

export function setMainAction(a: MainAction | null): void {
  if (!inTelegram) {
    fallbackListener(a);
    return;
  }
  offMain?.();
  offMain = null;
  attempt(() => {
    if (!a) {
      mainButton.setParams({ isVisible: false, isLoaderVisible: false });
      return;
    }
    mainButton.setParams({
      text: a.text,
      isVisible: true,
      isEnabled: a.enabled !== false && !a.loading,
      isLoaderVisible: Boolean(a.loading),
    });
    offMain = mainButton.onClick(a.onClick);
  });
}

let offBack: (() => void) | null = null;
export function setBackAction(onBack: (() => void) | null): void {
  if (!inTelegram) return;
  offBack?.();
  offBack = null;
  attempt(() => {
    if (onBack) {
      backButton.show();
      offBack = backButton.onClick(onBack);
    } else {
      backButton.hide();
    }
  });
}

export function haptic(kind: 'add' | 'error' | 'success' | 'select'): void {
  if (!inTelegram) return;
  attempt(() => {
    if (kind === 'add') hapticFeedback.impactOccurred('light');
    else if (kind === 'select') hapticFeedback.selectionChanged();
    else hapticFeedback.notificationOccurred(kind);
  });
}

export function confirmClosing(on: boolean): void {
  if (!inTelegram) return;
  attempt(() => (on ? closingBehavior.enableConfirmation() : closingBehavior.disableConfirmation()));
}

/** The phone number the user shares from Telegram, or null (declined, unsupported, outside). */
export async function askPhone(): Promise<string | null> {
  if (!inTelegram) return null;
  try {
    const result: unknown = await (requestContact as unknown as () => unknown)();
    const value = typeof result === 'function' ? await (result as () => Promise<unknown>)() : result;
    const v = value as { right?: { contact?: { phone_number?: string } }; contact?: { phone_number?: string } };
    const phone = v.right?.contact?.phone_number ?? v.contact?.phone_number;
    return phone ? (phone.startsWith('+') ? phone : `+${phone}`) : null;
  } catch {
    return null;
  }
}

/** Opens a Telegram invoice; resolves when the sheet closes (the status is only a hint: the
 * server confirms payments from Telegram's own update, so the caller refetches the order). */
export async function openInvoice(url: string): Promise<string> {
  if (!inTelegram) return 'unsupported';
  try {
    return String(await invoice.openUrl(url));
  } catch {
    return 'failed';
  }
}
