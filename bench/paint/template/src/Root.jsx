import { Component } from 'react';
import { TonConnectUIProvider } from '@tonconnect/ui-react';
import { AppRoot, Cell, Image, List, Section } from '@telegram-apps/telegram-ui';
import { HashRouter, Link, Navigate, Route, Routes } from 'react-router-dom';
import { miniApp, useSignal } from '@tma.js/sdk-react';
import tonSvg from './ton.svg';

class ErrorBoundary extends Component {
  state = { error: null };
  static getDerivedStateFromError(error) {
    return { error };
  }
  render() {
    return this.state.error ? <p>An unhandled error occurred: {String(this.state.error)}</p> : this.props.children;
  }
}

function IndexPage() {
  return (
    <List>
      <Section
        header="Features"
        footer="You can use these pages to learn more about features, provided by Telegram Mini Apps and other useful projects"
      >
        <Link to="/ton-connect">
          <Cell before={<Image src={tonSvg} style={{ backgroundColor: '#007AFF' }} />} subtitle="Connect your TON wallet">
            TON Connect
          </Cell>
        </Link>
      </Section>
      <Section
        header="Application Launch Data"
        footer="These pages help developer to learn more about current launch information"
      >
        <Link to="/init-data">
          <Cell subtitle="User data, chat information, technical data">Init Data</Cell>
        </Link>
        <Link to="/launch-params">
          <Cell subtitle="Platform identifier, Mini Apps version, etc.">Launch Parameters</Cell>
        </Link>
        <Link to="/theme-params">
          <Cell subtitle="Telegram application palette information">Theme Parameters</Cell>
        </Link>
      </Section>
    </List>
  );
}

function App({ platform }) {
  const isDark = useSignal(miniApp.isDark);
  return (
    <AppRoot
      appearance={isDark ? 'dark' : 'light'}
      platform={['macos', 'ios'].includes(platform) ? 'ios' : 'base'}
    >
      <HashRouter>
        <Routes>
          <Route path="/" element={<IndexPage />} />
          <Route path="*" element={<Navigate to="/" />} />
        </Routes>
      </HashRouter>
    </AppRoot>
  );
}

export function Root({ platform }) {
  return (
    <ErrorBoundary>
      <TonConnectUIProvider manifestUrl={new URL('tonconnect-manifest.json', location.href).toString()}>
        <App platform={platform} />
      </TonConnectUIProvider>
    </ErrorBoundary>
  );
}
