// A few lines on top of forms that work without script: a form is sent once, so that a
// second click while the first is under way does not send the same action again.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.sending) {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "1";
});
