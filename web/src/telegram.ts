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
  mockTelegramEnv,
  openTelegramLink,
  requestContact,
  retrieveLaunchParams,
  swipeBehavior,
  switchInlineQuery,
  themeParams,
  viewport,
} from '@tma.js/sdk-react';
import {
  type Feature,
  findLaunchParams,
  hasFeature,
  readRawLaunch,
  repairForSdk,
  saveLaunch,
  savedLaunch,
  sdkAccepts,
} from './launch';

export interface Launch {
  inTelegram: boolean;
  /** Raw initData to send as `Authorization: tma …`; empty outside Telegram. */
  initData: string;
  startParam: string | null;
  languageCode: string | null;
}

/** The client's features are driven through the SDK. */
let inTelegram = false;
/** The Bot API version of the client (features are used only where it has them). */
let clientVersion = '6.0';
/** Whether the client said the bot has inline mode on (`tgWebAppBotInline`). */
let botInline = false;

function attempt(f: () => unknown): void {
  try {
    f();
  } catch {
    // An older client without the method: the feature is simply absent.
  }
}

function can(feature: Feature): boolean {
  return inTelegram && hasFeature(clientVersion, feature);
}

function safely<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

/**
 * Reads what the Telegram client passed and sets the SDK up. Never throws: a client whose
 * launch parameters the SDK cannot parse (no `signature` before Bot API 8.0, an odd theme)
 * still signs in with its raw initData, and at worst the app runs with its in-page buttons.
 */
export function launch(): Launch {
  const fromUrl = new URLSearchParams(location.search).get('startapp');
  const navigation = safely(
    () => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined)?.name,
  );
  const params = findLaunchParams([location.href, navigation, savedLaunch()]);
  const sdkSaysTma = safely(() => isTMA()) ?? false;
  if (!params && !sdkSaysTma) {
    return { inTelegram: false, initData: '', startParam: fromUrl, languageCode: navigator.language };
  }
  const raw = params ? readRawLaunch(params) : null;
  if (raw && params) {
    saveLaunch(raw.query);
    clientVersion = raw.version;
    botInline = raw.botInline;
    // The SDK reads its own copy (from the URL, else from what mockTelegramEnv stores): one it
    // cannot parse is replaced by a repaired copy; the original initData stays ours.
    if (!sdkAccepts(raw.query)) {
      const repaired = repairForSdk(raw, params);
      if (repaired) safely(() => mockTelegramEnv({ launchParams: repaired }));
    }
  }
  const lp = safely(() => retrieveLaunchParams());
  const initData = raw?.initData ?? '';
  if (!lp) {
    // The SDK cannot run here: sign in all the same, with the in-page buttons.
    return {
      inTelegram: false,
      initData,
      startParam: raw?.startParam ?? fromUrl,
      languageCode: raw?.languageCode ?? navigator.language,
    };
  }
  if (!raw) clientVersion = String(lp.tgWebAppVersion ?? '6.0');
  inTelegram = safely(() => {
    init();
    return true;
  }) ?? false;
  if (inTelegram) mountFeatures();
  const data = lp.tgWebAppData as { user?: { language_code?: string }; start_param?: string } | undefined;
  return {
    inTelegram: true,
    initData,
    startParam: raw?.startParam ?? (lp.tgWebAppStartParam as string | undefined) ?? fromUrl,
    languageCode: raw?.languageCode ?? data?.user?.language_code ?? null,
  };
}

function mountFeatures(): void {
  if (can('backButton')) attempt(() => backButton.mount());
  attempt(() => mainButton.mount());
  if (can('closingConfirmation')) attempt(() => closingBehavior.mount());
  if (can('verticalSwipes')) {
    attempt(() => swipeBehavior.mount());
    attempt(() => swipeBehavior.disableVertical());
  }
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
        if (can('expand')) viewport.expand();
      })
      .catch(() => undefined);
  });
  attempt(() => miniApp.ready());
}

/** Whether the Telegram client runs `feature` for the app (else the app draws its own). */
export function telegramHas(feature: Feature): boolean {
  return can(feature);
}

/** The client's Bot API version (for tests and diagnostics). */
export function telegramVersion(): string {
  return clientVersion;
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
  if (!can('backButton')) return;
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
  if (!can('haptics')) return;
  attempt(() => {
    if (kind === 'add') hapticFeedback.impactOccurred('light');
    else if (kind === 'select') hapticFeedback.selectionChanged();
    else hapticFeedback.notificationOccurred(kind);
  });
}

export function confirmClosing(on: boolean): void {
  if (!can('closingConfirmation')) return;
  attempt(() => (on ? closingBehavior.enableConfirmation() : closingBehavior.disableConfirmation()));
}

/** The phone number the user shares from Telegram, or null (declined, unsupported, outside). */
export async function askPhone(): Promise<string | null> {
  if (!can('requestPhone')) return null;
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
  if (!can('invoice')) return 'unsupported';
  try {
    return String(await invoice.openUrl(url));
  } catch {
    return 'failed';
  }
}

/** `https://t.me/share/url?…`: Telegram's own chat picker for a link and its text. */
export function shareUrl(link: string, text: string): string {
  return `https://t.me/share/url?url=${encodeURIComponent(link)}&text=${encodeURIComponent(text)}`;
}

/**
 * Shares a product into a chat the customer picks. Inside a client that can (Bot API 6.7+, the
 * bot's inline mode on) it switches to inline mode with the product's name, so the bot answers
 * with the product card; otherwise Telegram's share link opens with `link`.
 */
export function shareProduct(name: string, link: string): 'inline' | 'link' {
  if (botInline && can('switchInlineQuery')) {
    try {
      // The client shows the chat picker, then puts "@bot <name>" into that chat's input.
      switchInlineQuery(name.slice(0, 256), ['users', 'groups', 'channels']);
      return 'inline';
    } catch {
      // The SDK refused (inline mode off after all): the share link below still works.
    }
  }
  const url = shareUrl(link, name);
  if (inTelegram) {
    try {
      openTelegramLink(url);
      return 'link';
    } catch {
      // Fall through to a plain navigation.
    }
  }
  window.open(url, '_blank', 'noopener');
  return 'link';
}
