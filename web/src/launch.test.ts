import { parseLaunchParamsQuery } from '@tma.js/sdk-react';
import { describe, expect, it } from 'vitest';
import { findLaunchParams, hasFeature, readRawLaunch, repairForSdk, sdkAccepts } from './launch';

// initData as clients of each generation send it: a `user` JSON with the `\/` escapes real
// clients write, `query_id` and `hash`; `chat_instance`/`chat_type` from 7.x; the Ed25519
// `signature` only from Bot API 8.0. The HMAC is the server's business: here only the shape.
function initData(version: string, signed: boolean): string {
  const p = new URLSearchParams();
  p.set('query_id', 'AAHdF6IQAAAAAN0XohDhrOrc');
  p.set(
    'user',
    '{"id":279058397,"first_name":"Анна","last_name":"","username":"anna","language_code":"en","photo_url":"https:\\/\\/t.me\\/i\\/userpic\\/320\\/x.jpg"}',
  );
  if (!version.startsWith('6.')) {
    p.set('chat_instance', '-9019146543209142052');
    p.set('chat_type', 'sender');
  }
  p.set('auth_date', '1733580000');
  if (signed) p.set('signature', 'n0Bf2eqOsYHMkzEnpiSTc6hL4Ykd8vxFz1JYyzB7tb8P4i8nLLBi3ycvtm1V2LidVsuZfxJtT6TWFJ0WzP-9DA');
  p.set('hash', 'c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2');
  return p.toString();
}

function launchHash(version: string, platform: string, signed: boolean, extra: Record<string, string> = {}): string {
  return new URLSearchParams({
    tgWebAppData: initData(version, signed),
    tgWebAppVersion: version,
    tgWebAppPlatform: platform,
    tgWebAppThemeParams: JSON.stringify({ bg_color: '#ffffff', text_color: '#000000', button_color: '#2481cc' }),
    ...extra,
  }).toString();
}

const VERSIONS = ['6.0', '6.9', '7.0', '7.10', '8.0', '9.1'];
const PLATFORMS = ['android', 'ios', 'tdesktop', 'weba'];

describe('launch parameters from every client', () => {
  for (const version of VERSIONS) {
    for (const platform of PLATFORMS) {
      for (const signed of [false, true]) {
        it(`${version} on ${platform} ${signed ? 'with' : 'without'} signature`, () => {
          const params = findLaunchParams([`https://shop.example.com/#${launchHash(version, platform, signed)}`]);
          expect(params).not.toBeNull();
          const raw = readRawLaunch(params as URLSearchParams);
          // The server gets initData exactly as the client passed it.
          expect(raw.initData).toBe(initData(version, signed));
          expect(raw.signed).toBe(signed);
          expect(raw.version).toBe(version);
          expect(raw.platform).toBe(platform);
          expect(raw.languageCode).toBe('en');
          // The SDK parses it only when signed (clients before Bot API 8.0 are not) ...
          expect(sdkAccepts(raw.query)).toBe(signed);
          // ... and always takes the repaired copy, which keeps the client's version.
          const repaired = repairForSdk(raw, params as URLSearchParams);
          expect(repaired).not.toBeNull();
          const lp = parseLaunchParamsQuery(repaired as string);
          expect(lp.tgWebAppVersion).toBe(version);
          expect(lp.tgWebAppPlatform).toBe(platform);
        });
      }
    }
  }
});

describe('where the parameters are found', () => {
  it('in the hash, the query, the navigation entry or the saved copy', () => {
    const hash = launchHash('7.0', 'android', false);
    expect(findLaunchParams([`https://s.example/?${hash}`])?.get('tgWebAppVersion')).toBe('7.0');
    // The app changed its URL; the navigation entry still has what Telegram opened.
    expect(findLaunchParams(['https://s.example/cart', `https://s.example/#${hash}`])?.get('tgWebAppPlatform')).toBe(
      'android',
    );
    expect(findLaunchParams(['https://s.example/cart', undefined, `#${hash}`])?.get('tgWebAppData')).toBe(
      initData('7.0', false),
    );
    expect(findLaunchParams(['https://s.example/', 'https://s.example/#x=1'])).toBeNull();
  });

  it('defaults what an old client leaves out', () => {
    const p = new URLSearchParams({ tgWebAppData: initData('6.0', false) });
    const raw = readRawLaunch(p);
    expect([raw.version, raw.platform]).toEqual(['6.0', 'unknown']);
    expect(repairForSdk(raw, p)).not.toBeNull();
  });

  it('drops a theme the SDK cannot read rather than fail', () => {
    const hash = launchHash('6.9', 'tdesktop', false, { tgWebAppThemeParams: '{"bg_color":"white"}' });
    const params = findLaunchParams([`#${hash}`]) as URLSearchParams;
    const repaired = repairForSdk(readRawLaunch(params), params);
    expect(repaired).not.toBeNull();
    expect(new URLSearchParams(repaired as string).get('tgWebAppThemeParams')).toBeNull();
  });

  it('takes the start parameter from the launch or from initData', () => {
    const hash = launchHash('8.0', 'ios', true, { tgWebAppStartParam: 'product_42' });
    expect(readRawLaunch(findLaunchParams([`#${hash}`]) as URLSearchParams).startParam).toBe('product_42');
  });
});

describe('features by client version', () => {
  it('uses only what the version has', () => {
    expect(hasFeature('6.0', 'mainButton')).toBe(true);
    expect(hasFeature('6.0', 'backButton')).toBe(false);
    expect(hasFeature('6.0', 'haptics')).toBe(false);
    expect(hasFeature('6.0', 'invoice')).toBe(false);
    expect(hasFeature('6.1', 'backButton')).toBe(true);
    expect(hasFeature('6.8', 'requestPhone')).toBe(false);
    expect(hasFeature('6.9', 'requestPhone')).toBe(true);
    expect(hasFeature('7.6', 'verticalSwipes')).toBe(false);
    expect(hasFeature('7.10', 'verticalSwipes')).toBe(true);
    for (const f of ['mainButton', 'backButton', 'haptics', 'invoice', 'requestPhone', 'verticalSwipes'] as const) {
      expect(hasFeature('8.0', f)).toBe(true);
    }
    expect(hasFeature('garbage', 'backButton')).toBe(false);
  });
});
