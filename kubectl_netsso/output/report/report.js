(function(){
  'use strict';
  var svg=document.getElementById('graph');
  if(svg){
    var edges=svg.querySelectorAll('.edge');
    var nodes=svg.querySelectorAll('.node');
    function clear(){for(var i=0;i<edges.length;i++){edges[i].classList.remove('dim','hl');}
      for(var j=0;j<nodes.length;j++){nodes[j].classList.remove('dim');}}
    function focus(id){
      var keep={};keep[id]=true;
      for(var i=0;i<edges.length;i++){var e=edges[i];var on=e.getAttribute('data-from')===id||e.getAttribute('data-to')===id;
        e.classList.toggle('hl',on);e.classList.toggle('dim',!on);
        if(on){keep[e.getAttribute('data-from')]=true;keep[e.getAttribute('data-to')]=true;}}
      for(var j=0;j<nodes.length;j++){nodes[j].classList.toggle('dim',!keep[nodes[j].getAttribute('data-id')]);}
    }
    for(var k=0;k<nodes.length;k++){(function(n){
      n.addEventListener('mouseenter',function(){focus(n.getAttribute('data-id'));});
      n.addEventListener('mouseleave',clear);})(nodes[k]);}
  }
  var box=document.getElementById('finding-filter');
  if(box){box.addEventListener('input',function(){
    var q=box.value.toLowerCase();var rows=document.querySelectorAll('#findings tbody tr');
    for(var i=0;i<rows.length;i++){rows[i].style.display=rows[i].textContent.toLowerCase().indexOf(q)>=0?'':'none';}
  });}
  var data=document.getElementById('netsso-data');
  if(data){window.netssoReport=JSON.parse(data.textContent);}
  var panel=document.getElementById('cell-panel');
  if(panel){
    var chosen=null;
    var show=function(btn){
      var t=document.getElementById('cell-'+btn.getAttribute('data-cell'));if(!t){return;}
      if(chosen){chosen.parentNode.classList.remove('chosen');chosen.removeAttribute('aria-pressed');}
      chosen=btn;btn.parentNode.classList.add('chosen');btn.setAttribute('aria-pressed','true');
      document.getElementById('cell-title').textContent=t.getAttribute('data-title');
      document.getElementById('cell-summary').textContent=t.getAttribute('data-summary');
      var body=document.querySelector('#cell-rules tbody');
      while(body.firstChild){body.removeChild(body.firstChild);}
      body.appendChild(document.importNode(t.content,true));
      panel.hidden=false;
      if(panel.scrollIntoView){panel.scrollIntoView({block:'nearest'});}
    };
    var buttons=document.querySelectorAll('#ns-matrix button.cell');
    for(var b=0;b<buttons.length;b++){buttons[b].addEventListener('click',function(ev){show(ev.currentTarget);});}
  }
})();
