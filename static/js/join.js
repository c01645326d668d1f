// The join page: a table code in, /j/CODE out.
const form = document.getElementById("join-form");
const input = document.getElementById("code");
const error = document.getElementById("join-error");
const ALPHABET = /^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]*$/; // codes never use I, L, O, 0 or 1

input.addEventListener("input", () => {
  // Uppercase as typed, keeping the caret where it was.
  const { selectionStart: a, selectionEnd: b } = input;
  input.value = input.value.toUpperCase();
  input.setSelectionRange(a, b);
  error.textContent = "";
});

form.addEventListener("submit", (e) => {
  e.preventDefault();
  // A pasted link works too: take what follows /j/.
  const code = input.value.split("/j/").pop().replace(/[\s-]/g, "").toUpperCase();
  let problem = "";
  if (!code) problem = "Type the code from your table's card first.";
  else if (code.length !== 8) problem = `A table code has 8 characters; you typed ${code.length}.`;
  else if (!ALPHABET.test(code)) problem = "That is not a table code: codes use letters and numbers, but never I, L, O, 0 or 1.";
  if (problem) {
    error.textContent = problem;
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return;
  }
  location.assign(`/j/${code}`);
});
