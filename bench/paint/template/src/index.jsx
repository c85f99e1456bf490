// The shape of the telegram-apps React template's entry: SDK init (back button, theme params
// and viewport bound to CSS variables), then <Root/>: an error boundary and TonConnectUIProvider
// around the router-driven <App/>. Written here, not copied; see ../README.md.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import {
  backButton,
  init,
  initData,
  miniApp,
  retrieveLaunchParams,
  themeParams,
  viewport,
} from '@tma.js/sdk-react';
import '@telegram-apps/telegram-ui/dist/styles.css';
import { Root } from './Root.jsx';

const root = createRoot(document.getElementById('root'));
try {
  const lp = retrieveLaunchParams();
  init();
  backButton.mount.ifAvailable();
  initData.restore();
  if (miniApp.mount.isAvailable()) {
    themeParams.mount();
    miniApp.mount();
    themeParams.bindCssVars();
  }
  if (viewport.mount.isAvailable()) {
    void viewport.mount().then(() => viewport.bindCssVars());
  }
  root.render(
    <StrictMode>
      <Root platform={lp.tgWebAppPlatform} />
    </StrictMode>,
  );
} catch {
  root.render(<p>You are using too old Telegram client to run this application</p>);
}
