// After django-otp-webauthn's script has stored a new passkey, reload so the list shows it
// (and its default name, which the person can change).
document.addEventListener("otp_webauthn.register_complete", () => {
  window.location.reload();
});
