// The managed login pages' passkey step: ask the browser for an assertion
// with the page's request options and post its JSON. A failure (cancelled,
// no passkey) posts an empty credential, which the server refuses with
// its one message.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form");
  const options = document.getElementById("passkey-options").dataset.options;
  form.addEventListener("submit", async (event) => {
    if (form.credential.value !== "") return;
    event.preventDefault();
    try {
      const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(options));
      const credential = await navigator.credentials.get({ publicKey });
      form.credential.value = JSON.stringify(credential.toJSON());
    } catch {
      form.credential.value = "{}";
    }
    form.submit();
  });
});
