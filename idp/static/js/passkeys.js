/*
 * Passkeys (W3C WebAuthn Level 3) for the security page and the second login step.
 *
 * Each <form data-passkey="register|login"> is shown only where the browser has
 * WebAuthn. On submit: POST to data-options-url for the options (JSON), decode
 * their base64url fields, call navigator.credentials.create() or .get(), encode
 * the answer as JSON (WebAuthn §5.1.8, toJSON()) and POST it to the form's
 * action. The CSRF token of the form goes in the X-CSRFToken header. An error
 * is a problem document whose "detail" is shown in the form's role="alert".
 */
(function () {
  "use strict";

  function toBytes(value) {
    var base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    base64 += "===".slice((base64.length + 3) % 4);
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    if (!buffer) return null;
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBytes(descriptors) {
    return (descriptors || []).map(function (d) {
      return Object.assign({}, d, { id: toBytes(d.id) });
    });
  }

  function creationOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.user = Object.assign({}, json.user, { id: toBytes(json.user.id) });
    options.excludeCredentials = withBytes(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.allowCredentials = withBytes(json.allowCredentials);
    return options;
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var body = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults
        ? credential.getClientExtensionResults()
        : {},
      response: { clientDataJSON: toBase64url(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      body.response.attestationObject = toBase64url(response.attestationObject);
      body.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      body.response.authenticatorData = toBase64url(response.authenticatorData);
      body.response.signature = toBase64url(response.signature);
      body.response.userHandle = toBase64url(response.userHandle);
    }
    return body;
  }

  function post(url, token, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": token,
      },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response
        .json()
        .catch(function () { return {}; })
        .then(function (data) { return { ok: response.ok, data: data }; });
    });
  }

  function setUp(form) {
    var box = form.parentNode;
    var alertBox = box.querySelector("[data-passkey-error]");
    var button = form.querySelector("button");
    var token = form.querySelector("input[name=csrf_token]").value;
    var ceremony = form.getAttribute("data-passkey");

    if (!window.PublicKeyCredential || !navigator.credentials) {
      var note = box.querySelector("[data-passkey-unsupported]");
      if (note) note.hidden = false;
      return;
    }
    form.hidden = false;

    function fail(message, login) {
      alertBox.textContent = message || form.getAttribute("data-failed");
      alertBox.setAttribute("role", "alert");
      alertBox.hidden = false;
      button.disabled = false;
      if (login) window.location.assign(login);
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      alertBox.hidden = true;
      post(form.getAttribute("data-options-url"), token)
        .then(function (answer) {
          if (!answer.ok) throw answer.data;
          var json = answer.data.publicKey;
          return ceremony === "register"
            ? navigator.credentials.create({ publicKey: creationOptions(json) })
            : navigator.credentials.get({ publicKey: requestOptions(json) });
        })
        .then(function (credential) {
          return post(form.action, token, { credential: credentialJSON(credential) });
        })
        .then(function (answer) {
          if (!answer.ok) throw answer.data;
          window.location.assign(answer.data.redirect);
        })
        .catch(function (error) {
          if (error && error.name === "NotAllowedError") {
            fail(form.getAttribute("data-cancelled"));
          } else if (error && error.detail) {
            fail(error.detail, error.login);
          } else {
            fail(form.getAttribute("data-failed"));
          }
        });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-passkey]"), setUp);
})();
