// The identification photo page (patients/photo_form.html): the device camera, no plugin.
// The picture taken is put in the form's file field, as if chosen from the disk, so that it
// is posted, checked and stored exactly like an uploaded file. Without a camera (or when
// access is refused) the file field alone remains.
(function () {
  "use strict";
  var form = document.querySelector("[data-photo-form]");
  if (!form) return;
  var camera = form.querySelector("[data-camera]");
  var video = form.querySelector("[data-camera-video]");
  var canvas = form.querySelector("[data-camera-canvas]");
  var start = form.querySelector("[data-camera-start]");
  var capture = form.querySelector("[data-camera-capture]");
  var error = form.querySelector("[data-camera-error]");
  var taken = form.querySelector("[data-camera-taken]");
  var input = form.querySelector("input[type=file][name=photo]");
  var source = form.querySelector("input[name=source]");
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.DataTransfer
      || !canvas.toBlob) {
    return;
  }
  camera.hidden = false;

  function fail() {
    error.textContent = error.getAttribute("data-message");
    error.hidden = false;
  }

  start.addEventListener("click", function () {
    error.hidden = true;
    navigator.mediaDevices.getUserMedia({video: {facingMode: "user", width: 640, height: 480},
                                         audio: false})
      .then(function (stream) {
        video.srcObject = stream;
        capture.disabled = false;
      })
      .catch(fail);
  });

  capture.addEventListener("click", function () {
    var width = video.videoWidth, height = video.videoHeight;
    if (!width || !height) return fail();
    // The middle of the picture in portrait 3:4, as the server keeps it.
    var cropWidth = Math.min(width, height * 3 / 4), cropHeight = cropWidth * 4 / 3;
    var context = canvas.getContext("2d");
    context.drawImage(video, (width - cropWidth) / 2, (height - cropHeight) / 2, cropWidth,
                      cropHeight, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      if (!blob) return fail();
      var files = new DataTransfer();
      files.items.add(new File([blob], "camera.jpg", {type: "image/jpeg"}));
      input.files = files.files;
      source.value = "camera";
      canvas.hidden = false;
      taken.hidden = false;
    }, "image/jpeg", 0.9);
  });

  // A file chosen by hand after all: it is an upload.
  input.addEventListener("change", function () {
    source.value = "upload";
    canvas.hidden = true;
    taken.hidden = true;
  });

  // Leaving the page turns the camera off.
  window.addEventListener("pagehide", function () {
    if (video.srcObject) {
      video.srcObject.getTracks().forEach(function (track) { track.stop(); });
    }
  });
})();
