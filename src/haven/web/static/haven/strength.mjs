// Password strength meter (ASVS 2.1.8): as a new password is typed, the server's estimate
// (the same zxcvbn check that refuses weak passwords) is shown as GOV.UK hint text under the
// field. Progressive enhancement: without this script the server still refuses a weak password
// and says why. A static module: the CSP forbids inline script.
const PAUSE_MS = 250;

for (const meter of document.querySelectorAll("[data-strength-meter]")) {
  const input = document.getElementById(meter.dataset.strengthFor);
  const form = input && input.form;
  if (!form) continue;
  const token = form.querySelector("input[name=csrfmiddlewaretoken]");
  const username = form.querySelector("input[name=username]");
  let timer = null;
  let asked = 0; // answers can arrive out of order: show only the latest question's

  const ask = async () => {
    const question = ++asked;
    if (!input.value) {
      meter.hidden = true;
      meter.textContent = "";
      return;
    }
    const body = new FormData();
    body.append("password", input.value);
    if (username) body.append("username", username.value);
    if (token) body.append("csrfmiddlewaretoken", token.value);
    try {
      const response = await fetch(meter.dataset.strengthMeter, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      });
      if (!response.ok || question !== asked) return;
      const estimate = await response.json();
      meter.textContent = estimate.hint;
      meter.hidden = false;
    } catch {
      // No meter this time: the server still checks the password when the form is sent.
    }
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(ask, PAUSE_MS);
  });
}
