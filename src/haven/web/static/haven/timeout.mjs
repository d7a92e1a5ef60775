// GOV.UK timeout warning: two minutes before the idle timeout a dialog offers to stay signed
// in. "Stay signed in" posts to the keep-alive endpoint, so the page – and any unsaved form on
// it – stays as it is. A static module: the CSP forbids inline script.
const dialog = document.getElementById("timeout-warning");

if (dialog && typeof dialog.showModal === "function") {
  const idleSeconds = Number(dialog.dataset.idleSeconds);
  const warningSeconds = Number(dialog.dataset.warningSeconds);
  const form = dialog.querySelector("form");
  const countdown = dialog.querySelector("[data-timeout-countdown]");
  const warning = dialog.querySelector("[data-timeout-warning]");
  const expired = dialog.querySelector("[data-timeout-expired]");
  let lastActivity = Date.now();
  let signedOut = false;

  const remaining = () => idleSeconds - Math.floor((Date.now() - lastActivity) / 1000);

  const describe = (seconds) => {
    if (seconds >= 60) {
      const minutes = Math.ceil(seconds / 60);
      return `${minutes} minute${minutes === 1 ? "" : "s"}`;
    }
    return `${seconds} second${seconds === 1 ? "" : "s"}`;
  };

  const tick = () => {
    if (signedOut) return;
    const left = remaining();
    if (left <= 0) {
      signedOut = true;
      warning.hidden = true;
      expired.hidden = false;
      if (!dialog.open) dialog.showModal();
      return;
    }
    if (left <= warningSeconds) {
      countdown.textContent = describe(left);
      if (!dialog.open) dialog.showModal();
    }
  };

  const activity = () => {
    lastActivity = Date.now();
    if (dialog.open && !signedOut) dialog.close();
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
      redirect: "manual",
    });
    if (response.status === 204) activity();
    else tick();
  });
  // A request the server counts as activity (the unread badge's poll does not).
  document.body.addEventListener("htmx:afterRequest", (event) => {
    if (!event.target.closest("#inbox-badge")) activity();
  });
  dialog.addEventListener("cancel", (event) => event.preventDefault()); // Esc is not consent
  setInterval(tick, 1000);
}
