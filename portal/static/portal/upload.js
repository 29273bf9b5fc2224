/* Ingest page: send the form with XMLHttpRequest so the browser reports upload progress, then show the
   server's answer (each file's outcome and the processing panel, which HTMX polls until 100 %). Without
   JavaScript the form still posts normally and the server answers with the whole page. */
(function () {
  "use strict";
  var form = document.getElementById("ingest-form");
  if (!form) { return; }
  var input = document.getElementById("id_files");
  var summary = document.getElementById("file-summary");
  var panel = document.getElementById("upload-status");
  var bar = document.getElementById("upload-bar");
  var text = document.getElementById("upload-text");
  var result = document.getElementById("upload-result");
  var button = document.getElementById("upload-button");
  var msg = form.dataset;

  function size(bytes) {
    var units = ["B", "KB", "MB", "GB", "TB"];
    var n = bytes, i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
  }

  input.addEventListener("change", function () {
    var total = 0;
    for (var i = 0; i < input.files.length; i += 1) { total += input.files[i].size; }
    summary.textContent = input.files.length + " " + msg.msgFiles + " (" + size(total) + ")";
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (token) { xhr.setRequestHeader("X-CSRFToken", token.value); }
    panel.hidden = false;
    bar.value = 0;
    bar.textContent = "0 %";
    text.textContent = "";
    result.innerHTML = "";
    button.disabled = true;
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) { return; }
      var percent = Math.floor((100 * e.loaded) / e.total);
      bar.value = percent;
      bar.textContent = percent + " %";
      text.textContent = percent + " % — " + size(e.loaded) + " " + msg.msgOf + " " + size(e.total) + " " + msg.msgSent;
    });
    xhr.upload.addEventListener("load", function () {
      bar.value = 100;
      text.textContent = "100 % — " + msg.msgProcessing;
      // The recent acquisitions list shows the running ingest and its items as they are recorded.
      document.body.dispatchEvent(new Event("ingest-sent"));
    });
    xhr.addEventListener("load", function () {
      button.disabled = false;
      if (xhr.responseURL && xhr.responseURL.indexOf("/login/") !== -1) {
        // The session ended while the files were sent: nothing was ingested.
        text.textContent = msg.msgSignin;
        return;
      }
      result.innerHTML = xhr.responseText;
      if (window.htmx) { window.htmx.process(result); }
      if (xhr.status < 400) {
        form.reset();
        summary.textContent = "";
        document.body.dispatchEvent(new Event("ingest-done"));
      }
      var heading = result.querySelector("h2");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
    });
    xhr.addEventListener("error", function () {
      button.disabled = false;
      text.textContent = msg.msgFailed;
    });
    xhr.send(data);
  });
}());
