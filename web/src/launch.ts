// Launch parameters as the Telegram client passed them, read without trusting the SDK to
// parse them. Clients before Bot API 8.0 send initData without `signature`, which
// @tma.js/sdk 3.x requires: its parser throws and, unhandled, leaves the app on its pre-drawn
// grid. The server checks initData's HMAC itself, so the raw `tgWebAppData` is all vitrina
// needs to sign the customer in; the SDK gets a repaired copy for its own bookkeeping
// (version, platform, theme), and features are used only where the client's version has them.
import { parseLaunchParamsQuery, supports } from '@tma.js/sdk-react';

/** What the client passed, as vitrina uses it. */
export interface RawLaunch {
  /** `tgWebAppData` exactly as received: sent to the server as `Authorization: tma …`. */
  initData: string;
  /** `tgWebAppVersion`: the Bot API version the client implements (`6.0` when absent). */
  version: string;
  platform: string;
  startParam: string | null;
  languageCode: string | null;
  /** Whether initData carries Telegram's Ed25519 `signature` (clients from Bot API 8.0). */
  signed: boolean;
  /** `tgWebAppBotInline`: the bot has inline mode on, so `switchInlineQuery` can work. */
  botInline: boolean;
  /** All launch parameters, as a query string. */
  query: string;
}

const STORED = 'vitrina/launch';

/** The launch parameters of the first source that has `tgWebAppData`: the URL's hash (or
 * query), the page's navigation entry (the URL Telegram opened, if the app changed its own
 * since), then what an earlier load of this session saved. */
export function findLaunchParams(sources: (string | null | undefined)[]): URLSearchParams | null {
  for (const source of sources) {
    if (!source) continue;
    // Telegram puts them in the hash; some clients and proxies move them to the query.
    const query = source.replace(/^[^?#]*[?#]/, '').replace(/[?#]/g, '&');
    const params = new URLSearchParams(query);
    if (params.get('tgWebAppData')) return params;
  }
  return null;
}

export function readRawLaunch(params: URLSearchParams): RawLaunch {
  const initData = params.get('tgWebAppData') ?? '';
  const data = new URLSearchParams(initData);
  let languageCode: string | null = null;
  try {
    const user = JSON.parse(data.get('user') ?? 'null') as { language_code?: unknown } | null;
    if (user && typeof user.language_code === 'string') languageCode = user.language_code;
  } catch {
    // A user we cannot read is the server's to refuse; the app only loses the language hint.
  }
  return {
    initData,
    version: params.get('tgWebAppVersion') || '6.0',
    platform: params.get('tgWebAppPlatform') || 'unknown',
    startParam: params.get('tgWebAppStartParam') ?? data.get('start_param'),
    languageCode,
    signed: data.has('signature'),
    botInline: params.get('tgWebAppBotInline') === '1',
    query: params.toString(),
  };
}

/** Whether the SDK's parser takes these launch parameters as they are. */
export function sdkAccepts(query: string): boolean {
  try {
    parseLaunchParamsQuery(query);
    return true;
  } catch {
    return false;
  }
}

/**
 * A copy the SDK's parser accepts, for the SDK alone: a placeholder `signature` (the server
 * gets the original initData, whose HMAC the placeholder would break), version and platform
 * when absent, and no theme when the client's is not one the parser reads. `null` when even
 * that is refused.
 */
export function repairForSdk(raw: RawLaunch, params: URLSearchParams): string | null {
  const copy = new URLSearchParams(params);
  const data = new URLSearchParams(raw.initData);
  if (!data.has('signature')) data.set('signature', 'absent-before-bot-api-8');
  copy.set('tgWebAppData', data.toString());
  copy.set('tgWebAppVersion', raw.version);
  copy.set('tgWebAppPlatform', raw.platform);
  if (sdkAccepts(copy.toString())) return copy.toString();
  copy.delete('tgWebAppThemeParams');
  copy.delete('tgWebAppDefaultColors');
  return sdkAccepts(copy.toString()) ? copy.toString() : null;
}

/** The client features vitrina uses, by the Bot API method each needs. */
export const FEATURES = {
  mainButton: 'web_app_setup_main_button',
  backButton: 'web_app_setup_back_button',
  haptics: 'web_app_trigger_haptic_feedback',
  closingConfirmation: 'web_app_setup_closing_behavior',
  invoice: 'web_app_open_invoice',
  requestPhone: 'web_app_request_phone',
  verticalSwipes: 'web_app_setup_swipe_behavior',
  expand: 'web_app_expand',
  switchInlineQuery: 'web_app_switch_inline_query',
  openTelegramLink: 'web_app_open_tg_link',
} as const;

export type Feature = keyof typeof FEATURES;

/** Whether a client of `version` has `feature` (an unknown version is taken as 6.0). */
export function hasFeature(version: string, feature: Feature): boolean {
  try {
    return supports(FEATURES[feature], version);
  } catch {
    return false;
  }
}

/** Remembers the launch parameters for a reload within the session (the hash is gone by then). */
export function saveLaunch(query: string): void {
  try {
    sessionStorage.setItem(STORED, `#${query}`);
  } catch {
    // Storage may be off (private mode): a reload then needs Telegram's hash again.
  }
}

export function savedLaunch(): string | null {
  try {
    return sessionStorage.getItem(STORED);
  } catch {
    return null;
  }
}
