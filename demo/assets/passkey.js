// Adds a passkey on the account-security page: the server asks the user
// pool for the creation options (StartWebAuthnRegistration), the browser
// makes the credential, and the form posts it back to be completed.
(() => {
  const form = document.getElementById('passkey-form');
  const button = document.getElementById('passkey-add');
  if (!form || !button) return;
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const body = new URLSearchParams({ csrf_token: form.csrf_token.value, action: 'passkey-options' });
      // form.action is the input named "action", not the form's URL.
      const res = await fetch(form.getAttribute('action'), { method: 'POST', body, credentials: 'same-origin' });
      if (!res.ok) throw new Error('The user pool did not start the registration.');
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(await res.json());
      const credential = await navigator.credentials.create({ publicKey });
      form.credential.value = JSON.stringify(credential.toJSON());
      form.submit();
    } catch (err) {
      button.disabled = false;
      const p = document.createElement('p');
      p.className = 'alert error';
      p.dataset.testid = 'passkey-error';
      p.textContent = err.message;
      form.after(p);
    }
  });
})();
