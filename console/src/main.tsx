import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { setUnauthorizedHandler, token } from './api';
import { lang, setLang, t } from './i18n';
import { route, go } from './route';
import { SignIn } from './views/sign-in';
import { TablesView } from './views/tables';
import { TableView } from './views/table';
import { JobsView } from './views/jobs';
import { SchedulesView } from './views/schedules';

function App() {
  const [signedIn, setSignedIn] = useState(token.get() !== null);
  const current = route.use();
  const l = lang.use();
  const main = useRef<HTMLElement>(null);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      token.clear();
      setSignedIn(false);
    });
  }, []);
  // After a page change, move focus to the page's heading so keyboard and screen-reader users follow.
  // (Opening a job's details beside the jobs table is not a page change: the panel takes focus itself.)
  const pageKey = current.page === 'jobs' || current.page === 'schedules' ? current.page : `${current.page}/${current.id ?? ''}`;
  useEffect(() => {
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [pageKey]);

  const signOut = () => {
    token.clear();
    setSignedIn(false);
  };

  return (
    <>
      <button type="button" class="skip" onClick={() => main.current?.focus()}>
        {t('skip')}
      </button>
      <header class="top">
        <span class="brand">{t('app')}</span>
        {signedIn && (
          <nav aria-label={t('app')}>
            <a href="#/tables" aria-current={current.page === 'tables' || current.page === 'table' ? 'page' : undefined}>
              {t('tables')}
            </a>
            <a href="#/jobs" aria-current={current.page === 'jobs' ? 'page' : undefined}>
              {t('jobs')}
            </a>
            <a href="#/schedules" aria-current={current.page === 'schedules' ? 'page' : undefined}>
              {t('schedules')}
            </a>
          </nav>
        )}
        <span class="spacer" />
        <label class="lang">
          <span class="sr-only">{t('language')}</span>
          <select value={l} onChange={(e) => setLang(e.currentTarget.value === 'zh-CN' ? 'zh-CN' : 'en')}>
            <option value="en">English</option>
            <option value="zh-CN">简体中文</option>
          </select>
        </label>
        {signedIn && (
          <button type="button" class="link" onClick={signOut}>
            {t('signOut')}
          </button>
        )}
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {!signedIn ? (
          <SignIn
            onSignedIn={() => {
              setSignedIn(true);
              go('#/tables');
            }}
          />
        ) : current.page === 'jobs' ? (
          <JobsView openId={current.id} />
        ) : current.page === 'schedules' ? (
          <SchedulesView openId={current.id} />
        ) : current.page === 'table' && current.id ? (
          <TableView id={current.id} key={current.id} />
        ) : (
          <TablesView />
        )}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
