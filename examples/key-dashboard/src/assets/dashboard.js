// The dashboard's only script (the page's CSP allows no inline code).

// A page that answered a form: replace its history entry with the plain page, so that a
// reload fetches a fresh list (without any secret) instead of sending the form again.
if (window.location.pathname !== '/') window.history.replaceState(null, '', '/')

document.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-copy]')
  if (!button) return
  const field = document.getElementById(button.dataset.copy)
  const done = () => {
    button.textContent = 'Copied'
  }
  if (navigator.clipboard) {
    navigator.clipboard.writeText(field.value).then(done, () => {
      button.textContent = 'Copy failed: select the text and copy it'
    })
    return
  }
  field.select()
  if (document.execCommand('copy')) done()
})

document.addEventListener('submit', (event) => {
  const question = event.target.dataset.confirm
  if (question && !window.confirm(question)) event.preventDefault()
})
