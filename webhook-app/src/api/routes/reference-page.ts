/**
 * The interactive reference of `/api/v1/docs`: one self-contained page (no assets from elsewhere) that reads
 * /api/v1/openapi.json, lists every operation by tag with its parameters, schemas and the permission it needs, and
 * sends a request with the key typed in (kept in this tab's sessionStorage only). Text is set with textContent.
 */
export const REFERENCE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Wharf API reference</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f7f8fa}
header{background:#1d2330;color:#fff;padding:14px 24px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
header h1{font-size:18px;margin:0}header input{width:360px;padding:6px;border-radius:4px;border:0}
main{max-width:1080px;margin:0 auto;padding:16px 24px}h2{margin-top:28px;text-transform:capitalize}
details{background:#fff;border:1px solid #dde1e8;border-radius:6px;margin:8px 0}summary{padding:10px 12px;cursor:pointer}
.m{display:inline-block;width:64px;font-weight:700}.GET{color:#0a7d3e}.POST{color:#1d5fd6}.PATCH{color:#a05a00}.DELETE{color:#b3261e}
.body{padding:0 12px 12px}pre{background:#f0f2f5;padding:8px;overflow:auto;max-height:360px;border-radius:4px}
label{display:block;margin:4px 0}label input{margin-left:6px;padding:4px}textarea{width:100%;min-height:80px;font-family:monospace}
.perm{color:#6b7280;margin-left:8px}button{padding:6px 14px;margin-top:6px}
</style></head><body>
<header><h1>Wharf API</h1><input id="key" type="password" placeholder="API key (wharf_…); empty: your session or the local owner" autocomplete="off"><span id="status"></span></header>
<main id="ops"><p>Loading the OpenAPI document…</p></main>
<script>
const el=(t,a={},...k)=>{const e=document.createElement(t);for(const[n,v]of Object.entries(a))e.setAttribute(n,v);for(const c of k)e.append(c);return e};
const keyInput=document.getElementById('key');keyInput.value=sessionStorage.getItem('wharf-key')||'';
keyInput.addEventListener('change',()=>sessionStorage.setItem('wharf-key',keyInput.value));
fetch('openapi.json').then(r=>r.json()).then(doc=>{
  const main=document.getElementById('ops');main.textContent='';
  const p=el('p');p.textContent=doc.info.description;main.append(p);
  const byTag={};
  for(const[path,item]of Object.entries(doc.paths))for(const[method,op]of Object.entries(item))(byTag[op.tags[0]]??=[]).push({path,method:method.toUpperCase(),op});
  for(const[tag,ops]of Object.entries(byTag)){const h=el('h2');h.textContent=tag;main.append(h);
    for(const{path,method,op}of ops){
      const sum=el('summary');const m=el('span',{class:'m '+method});m.textContent=method;const pa=el('code');pa.textContent=doc.servers[0].url+path;
      const s=el('span');s.textContent=' '+op.summary;const perm=el('span',{class:'perm'});perm.textContent=op['x-wharf-permission']||'';sum.append(m,pa,s,perm);
      const body=el('div',{class:'body'});const d=el('p');d.textContent=op.description||'';body.append(d);
      const inputs={};
      for(const prm of op.parameters||[]){if(prm.$ref)continue;const l=el('label');l.textContent=prm.in+' '+prm.name;const i=el('input');inputs[prm.in+':'+prm.name]=i;l.append(i);body.append(l)}
      let ta;if(op.requestBody){const ref=op.requestBody.content['application/json'].schema.$ref.split('/').pop();const pre=el('pre');pre.textContent=ref+' '+JSON.stringify(doc.components.schemas[ref],null,2);ta=el('textarea');ta.value='{}';body.append(pre,ta)}
      const out=el('pre');const b=el('button');b.textContent='Send';
      b.onclick=async()=>{let url=doc.servers[0].url+path;const q=new URLSearchParams();
        for(const[k,i]of Object.entries(inputs)){const[where,name]=k.split(':');if(!i.value)continue;if(where==='path')url=url.replace('{'+name+'}',encodeURIComponent(i.value));else if(where==='query')q.set(name,i.value)}
        const h={'accept':'application/json'};if(keyInput.value)h.authorization='Bearer '+keyInput.value;if(ta)h['content-type']='application/json';
        const r=await fetch(url+(q.size?'?'+q:''),{method,headers:h,body:ta?ta.value:undefined});
        out.textContent=r.status+' '+r.statusText+'\\n'+[...r.headers].map(([k,v])=>k+': '+v).join('\\n')+'\\n\\n'+await r.text()};
      body.append(b,out);const det=el('details');det.append(sum,body);main.append(det)}}
}).catch(e=>{document.getElementById('ops').textContent='Could not read openapi.json: '+e});
</script></body></html>
`;
