import { useState } from 'preact/hooks';
import { api, token } from '../api';
import { t } from '../i18n';
import { ErrorNotice } from '../ui';

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const tok = value.trim();
    if (!tok) return;
    setBusy(true);
    setError(null);
    try {
      await api.check(tok);
      token.set(tok);
      onSignedIn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card narrow">
      <h1 tabIndex={-1}>{t('signIn')}</h1>
      <form onSubmit={submit}>
        <label for="token">{t('token')}</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          value={value}
          required
          aria-describedby="token-help"
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <p id="token-help" class="help">
          {t('tokenHelp')}
        </p>
        <ErrorNotice error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {t('signIn')}
        </button>
      </form>
    </section>
  );
}
